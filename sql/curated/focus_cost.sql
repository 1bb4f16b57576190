-- A tenant's cost as a FOCUS 1.2 dataset, a view over tb_cur_raw. Grain: one row per CUR
-- line item (identity_line_item_id, identity_time_interval), plus one row for the unused part
-- of each recurring commitment fee (RIFee, SavingsPlanRecurringFee) whose commitment went
-- partly unused: the fee stays a Purchase (BilledCost, EffectiveCost 0) and the unused part is
-- its own Usage row with CommitmentDiscountStatus 'Unused' (BilledCost 0, EffectiveCost the CID
-- amortized cost of the fee). So BilledCost sums to the unblended and EffectiveCost to the
-- amortized cost. ContractedCost is net where the CUR has net columns and before commitment
-- discounts, ListCost public on-demand; costs, unit prices and quantities are DECIMAL(38, 10).
-- A view, not a table: every month of tb_cur_raw, with its partition columns org, year and
-- month last, so a reader picks its months with a WHERE that the engines push down to the
-- partitions' files (the per-month lookups below are joined on the partition columns too).
-- Parameters: database.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
),
services AS (
    {{ include fragments/focus_services.sql }}
),
units AS (
    {{ include fragments/focus_units.sql }}
),
-- The two lists as maps, in one row: a column that needs them looks its key up in an
-- expression rather than a join, so a query that reads only costs (the month's check) neither
-- joins nor reads what the keys are made of (the product map). A key listed twice is an error.
lists AS (
    SELECT
        name_by_key, category_by_key, subcategory_by_key, category_by_name,
        subcategory_by_name, unit_by_aws_unit
    FROM (
        SELECT
            map_from_entries(array_agg(ROW(service_key, service_name))) AS name_by_key,
            map_from_entries(array_agg(ROW(service_key, service_category))) AS category_by_key,
            map_from_entries(array_agg(ROW(service_key, service_subcategory)))
                AS subcategory_by_key,
            map_from_entries(array_agg(ROW(service_name, service_category))) AS category_by_name,
            map_from_entries(array_agg(ROW(service_name, service_subcategory)))
                AS subcategory_by_name
        FROM services
    ) AS by_service
    CROSS JOIN (
        SELECT map_from_entries(array_agg(ROW(aws_unit, focus_unit))) AS unit_by_aws_unit
        FROM units
    ) AS by_unit
),
-- The unit each usage type of each service is priced in this month, for its line items that
-- AWS left without one (free tier). Three columns of the month, not a window over all of them.
priced_units AS (
    SELECT
        org AS priced_org,
        year AS priced_year,
        month AS priced_month,
        line_item_product_code AS priced_product_code,
        line_item_usage_type AS priced_usage_type,
        max(pricing_unit) AS priced_unit
    FROM {{ database }}.tb_cur_raw
    WHERE pricing_unit <> ''
    GROUP BY org, year, month, line_item_product_code, line_item_usage_type
),
-- AWS's price ids (pricing_rate_id) that the month bills under more than one SKU: a size-
-- flexible Reserved Instance's rate covers several instance sizes. FOCUS gives a SkuPriceId one
-- parent SkuId, so these are qualified by their SKU.
shared_rates AS (
    SELECT
        org AS shared_org,
        year AS shared_year,
        month AS shared_month,
        pricing_rate_id AS shared_rate_id
    FROM {{ database }}.tb_cur_raw
    WHERE pricing_rate_id <> ''
    GROUP BY org, year, month, pricing_rate_id
    HAVING count(DISTINCT product_sku) > 1
),
-- Every line item once as charged ('charge'), and a recurring commitment fee a second time for
-- its unused part ('unused') when that part costs something.
charges AS (
    SELECT
        line_items.*,
        parts.part = 'unused' AS is_unused,
        coalesce(
            nullif(reservation_reservation_a_r_n, ''), nullif(savings_plan_savings_plan_a_r_n, '')
        ) AS commitment_id,
        CASE
            WHEN coalesce(nullif(reservation_reservation_a_r_n, ''), '') <> '' THEN 'Usage'
            WHEN coalesce(nullif(savings_plan_savings_plan_a_r_n, ''), '') <> '' THEN 'Spend'
        END AS commitment_category,
        CASE
            WHEN element_at(product, 'servicename') = 'AWS Data Transfer' THEN 'AWSDataTransfer'
            ELSE product_code
        END AS service_key,
        -- The unit AWS left empty (free tier, RI fees) is the one the month prices the same
        -- usage type of the same service in, else the one AWS's usage type names spell out;
        -- a recurring commitment fee counts hours, an upfront fee purchases. What none of
        -- these tell stays NULL.
        coalesce(
            nullif(pricing_unit, ''),
            priced_unit,
            CASE
                WHEN line_item_type IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Hrs'
                WHEN line_item_type IN ('Fee', 'SavingsPlanUpfrontFee') THEN 'Units'
                WHEN usage_type LIKE '%ByteHrs' OR usage_type LIKE '%VolumeUsage%'
                    OR usage_type LIKE '%SnapshotUsage%' THEN 'GB-Mo'
                WHEN usage_type LIKE '%Bytes' THEN 'GB'
                WHEN usage_type LIKE '%Requests%' OR usage_type LIKE '%Request' THEN 'Requests'
                WHEN usage_type LIKE '%BoxUsage%' OR usage_type LIKE '%SpotUsage%'
                    OR usage_type LIKE '%InstanceUsage%'
                    OR usage_type LIKE '%NodeUsage%' THEN 'Hrs'
                WHEN usage_type LIKE '%MetricMonitorUsage%' THEN 'Metrics'
                WHEN usage_type LIKE '%Events%' THEN 'Events'
            END
        ) AS unit_as_billed,
        CASE
            WHEN nullif(pricing_rate_id, '') IS NULL THEN NULL
            WHEN shared_rate_id IS NOT NULL AND nullif(product_sku, '') IS NOT NULL
                THEN concat(product_sku, '.', pricing_rate_id)
            ELSE pricing_rate_id
        END AS sku_price_id,
        -- The reservation's ARN, or in a legacy CUR the reservation (cr-...) billed as the
        -- resource of its own line items.
        coalesce(
            nullif(capacity_reservation_capacity_reservation_arn, ''),
            CASE WHEN line_item_resource_id LIKE 'cr-%' THEN line_item_resource_id END
        ) AS capacity_reservation_id
    FROM line_items
    CROSS JOIN (VALUES 'charge', 'unused') AS parts (part)
    LEFT JOIN priced_units
        ON priced_units.priced_org = line_items.org
        AND priced_units.priced_year = line_items.year
        AND priced_units.priced_month = line_items.month
        AND priced_units.priced_product_code = line_items.product_code
        AND priced_units.priced_usage_type = line_items.usage_type
    LEFT JOIN shared_rates
        ON shared_rates.shared_org = line_items.org
        AND shared_rates.shared_year = line_items.year
        AND shared_rates.shared_month = line_items.month
        AND shared_rates.shared_rate_id = line_items.pricing_rate_id
    WHERE (
            parts.part = 'charge'
            -- A FOCUS export's unused-commitment row is loaded as its fee billing nothing
            -- (lib/cur/focus_source.py): it is its unused part again, not also a purchase.
            AND NOT coalesce(
                x_source_format IN ('focus', 'focus-csv')
                AND line_item_type IN ('RIFee', 'SavingsPlanRecurringFee')
                AND unblended_cost = 0 AND amortized_cost <> 0,
                false
            )
        )
        OR (
            parts.part = 'unused'
            AND line_item_type IN ('RIFee', 'SavingsPlanRecurringFee')
            AND amortized_cost <> 0
        )
),
-- The FOCUS measures of each row, before the dimensions are named.
measured AS (
    SELECT
        charges.*,
        lists.*,
        CASE WHEN is_unused THEN 'Usage' ELSE charge_category END AS focus_category,
        CASE WHEN is_unused THEN 0 ELSE unblended_cost END AS billed_cost,
        CASE
            WHEN is_unused THEN amortized_cost
            WHEN line_item_type IN ('RIFee', 'SavingsPlanRecurringFee') THEN 0
            ELSE amortized_cost
        END AS effective_cost,
        -- FOCUS: the contracted price (negotiated discounts in), without commitment discounts.
        -- Usage a Reserved Instance covered is billed at 0, so it counts at its on-demand cost
        -- (the CUR has no negotiated price for it); a Savings Plan's negation of the usage it
        -- covered counts 0.
        CASE
            WHEN is_unused THEN 0
            WHEN line_item_type = 'DiscountedUsage' THEN coalesce(public_cost, 0)
            WHEN line_item_type = 'SavingsPlanNegation' THEN 0
            ELSE coalesce(net_unblended_cost, unblended_cost)
        END AS contracted_cost,
        CASE WHEN is_unused THEN 0 ELSE coalesce(public_cost, 0) END AS list_cost,
        CASE
            WHEN is_unused AND line_item_type = 'RIFee'
                THEN CAST(reservation_unused_quantity AS DECIMAL(38, 10))
            WHEN is_unused THEN amortized_cost
            ELSE CAST(usage_amount AS DECIMAL(38, 10))
        END AS quantity,
        CASE
            WHEN is_unused AND line_item_type = 'SavingsPlanRecurringFee'
                THEN coalesce(line_item_currency_code, 'USD')
            ELSE coalesce(element_at(unit_by_aws_unit, unit_as_billed), unit_as_billed)
        END AS unit,
        -- The name of a service the list does not have: AWS's, else the product code.
        coalesce(
            nullif(element_at(product, 'servicename'), ''),
            nullif(element_at(product, 'product_name'), ''),
            product_code
        ) AS unlisted_name,
        -- Tags: the two maps' JSON objects joined as text (map_concat costs 10x more).
        coalesce(json_format(CAST(resource_tags AS JSON)), '{}') AS tags_json,
        coalesce(json_format(CAST(cost_category AS JSON)), '{}') AS cost_category_json
    FROM charges
    CROSS JOIN lists
),
-- The unit prices, in the billing currency (the CUR prices in it too), which FOCUS names
-- twice: as billed and in the pricing currency.
priced AS (
    SELECT
        measured.*,
        CASE
            WHEN unit IS NULL OR focus_category NOT IN ('Usage', 'Purchase') THEN NULL
            WHEN is_unused OR line_item_type = 'SavingsPlanNegation' THEN CAST(0 AS DECIMAL(38, 10))
            WHEN line_item_type = 'DiscountedUsage'
                THEN CAST(nullif(pricing_public_on_demand_rate, '') AS DECIMAL(38, 10))
            WHEN net_unblended_cost IS NOT NULL
                THEN CAST(nullif(line_item_net_unblended_rate, '') AS DECIMAL(38, 10))
            ELSE CAST(nullif(line_item_unblended_rate, '') AS DECIMAL(38, 10))
        END AS contracted_unit_price,
        CASE
            WHEN unit IS NULL OR focus_category NOT IN ('Usage', 'Purchase') THEN NULL
            WHEN is_unused OR line_item_type = 'SavingsPlanNegation' THEN CAST(0 AS DECIMAL(38, 10))
            ELSE CAST(nullif(pricing_public_on_demand_rate, '') AS DECIMAL(38, 10))
        END AS list_unit_price
    FROM measured
)
SELECT
    nullif(line_item_availability_zone, '') AS AvailabilityZone,
    capacity_reservation_id AS CapacityReservationId,
    -- FOCUS asks it of usage only; AWS's status text says whether the capacity went unused,
    -- as does a legacy CUR's usage type (UnusedBox, UnusedDed).
    CASE
        WHEN capacity_reservation_id IS NULL OR focus_category <> 'Usage' THEN NULL
        WHEN lower(capacity_reservation_capacity_reservation_status) LIKE '%unused%'
            OR usage_type LIKE '%UnusedBox%' OR usage_type LIKE '%UnusedDed%' THEN 'Unused'
        ELSE 'Used'
    END AS CapacityReservationStatus,
    billed_cost AS BilledCost,
    bill_payer_account_id AS BillingAccountId,
    coalesce(nullif(bill_payer_account_name, ''), bill_payer_account_id) AS BillingAccountName,
    coalesce(line_item_currency_code, 'USD') AS BillingCurrency,
    bill_billing_period_end_date AS BillingPeriodEnd,
    bill_billing_period_start_date AS BillingPeriodStart,
    focus_category AS ChargeCategory,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    CASE
        WHEN is_unused THEN concat('Unused commitment: ', line_item_line_item_description)
        ELSE line_item_line_item_description
    END AS ChargeDescription,
    CASE
        WHEN is_unused OR line_item_type IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Recurring'
        WHEN line_item_type IN ('Fee', 'SavingsPlanUpfrontFee') THEN 'One-Time'
        WHEN focus_category = 'Purchase' THEN 'One-Time'
        ELSE 'Usage-Based'
    END AS ChargeFrequency,
    line_item_usage_end_date AS ChargePeriodEnd,
    line_item_usage_start_date AS ChargePeriodStart,
    commitment_category AS CommitmentDiscountCategory,
    commitment_id AS CommitmentDiscountId,
    CAST(NULL AS VARCHAR) AS CommitmentDiscountName,
    -- A Reserved Instance counts hours (of the reservation's instance type), a Savings Plan its
    -- commitment in the billing currency.
    CASE
        WHEN commitment_id IS NULL OR focus_category NOT IN ('Usage', 'Purchase') THEN NULL
        WHEN commitment_category = 'Usage' AND is_unused
            THEN CAST(reservation_unused_quantity AS DECIMAL(38, 10))
        WHEN commitment_category = 'Usage' THEN CAST(usage_amount AS DECIMAL(38, 10))
        WHEN is_unused THEN amortized_cost
        WHEN line_item_type = 'SavingsPlanCoveredUsage'
            THEN CAST(savings_plan_savings_plan_effective_cost AS DECIMAL(38, 10))
        WHEN line_item_type = 'SavingsPlanRecurringFee'
            THEN CAST(savings_plan_total_commitment_to_date AS DECIMAL(38, 10))
    END AS CommitmentDiscountQuantity,
    CASE
        WHEN commitment_id IS NULL OR focus_category NOT IN ('Usage', 'Purchase') THEN NULL
        WHEN commitment_category = 'Usage' THEN 'Hours'
        WHEN is_unused OR line_item_type IN ('SavingsPlanCoveredUsage', 'SavingsPlanRecurringFee')
            THEN coalesce(line_item_currency_code, 'USD')
    END AS CommitmentDiscountUnit,
    CASE
        WHEN commitment_id IS NULL OR focus_category <> 'Usage' THEN NULL
        WHEN is_unused THEN 'Unused'
        ELSE 'Used'
    END AS CommitmentDiscountStatus,
    CASE
        WHEN commitment_category = 'Usage' THEN 'Reserved Instance'
        WHEN commitment_category = 'Spend' THEN 'Savings Plan'
    END AS CommitmentDiscountType,
    CASE
        WHEN focus_category = 'Usage' AND NOT is_unused THEN CAST(usage_amount AS DECIMAL(38, 10))
    END AS ConsumedQuantity,
    -- A quantity consumed in a unit nothing names (free Glue Data Catalog storage) counts Units.
    CASE
        WHEN focus_category = 'Usage' AND NOT is_unused AND usage_amount IS NOT NULL
            THEN coalesce(unit, 'Units')
    END AS ConsumedUnit,
    contracted_cost AS ContractedCost,
    contracted_unit_price AS ContractedUnitPrice,
    effective_cost AS EffectiveCost,
    nullif(bill_invoice_id, '') AS InvoiceId,
    -- AWS's own legal entities (Amazon Web Services, Inc., AWS EMEA SARL, ...) invoice as the
    -- provider, AWS; a reseller that invoices is named (and BilledCost-C-005-C then applies).
    CASE
        WHEN coalesce(bill_invoicing_entity, '') = '' THEN 'AWS'
        WHEN bill_invoicing_entity LIKE 'Amazon Web Services%' OR bill_invoicing_entity LIKE 'AWS%'
            THEN 'AWS'
        ELSE bill_invoicing_entity
    END AS InvoiceIssuerName,
    list_cost AS ListCost,
    list_unit_price AS ListUnitPrice,
    CASE
        WHEN focus_category NOT IN ('Usage', 'Purchase') THEN NULL
        WHEN commitment_id IS NOT NULL AND focus_category = 'Usage' THEN 'Committed'
        WHEN pricing_term = 'Spot' OR usage_type LIKE '%SpotUsage%' THEN 'Dynamic'
        ELSE 'Standard'
    END AS PricingCategory,
    -- The CUR states its rates in the currency it bills in, so the pricing currency columns
    -- repeat the billing currency's figures.
    coalesce(line_item_currency_code, 'USD') AS PricingCurrency,
    contracted_unit_price AS PricingCurrencyContractedUnitPrice,
    effective_cost AS PricingCurrencyEffectiveCost,
    list_unit_price AS PricingCurrencyListUnitPrice,
    CASE WHEN unit IS NOT NULL AND focus_category <> 'Tax' THEN quantity END AS PricingQuantity,
    CASE WHEN unit IS NOT NULL AND focus_category <> 'Tax' THEN unit END AS PricingUnit,
    'AWS' AS ProviderName,
    CASE WHEN bill_billing_entity = 'AWS Marketplace' THEN 'AWS Marketplace' ELSE 'AWS' END
        AS PublisherName,
    nullif(region, '') AS RegionId,
    nullif(element_at(product, 'region'), '') AS RegionName,
    nullif(line_item_resource_id, '') AS ResourceId,
    CASE
        WHEN nullif(line_item_resource_id, '') IS NOT NULL
            THEN coalesce(
                nullif(element_at(resource_tags, 'user_name'), ''), line_item_resource_id
            )
    END AS ResourceName,
    CASE
        WHEN nullif(line_item_resource_id, '') IS NULL THEN NULL
        WHEN nullif(product_product_family, '') IS NOT NULL THEN product_product_family
        -- Line items AWS left without product attributes (Spot instances): the id's kind.
        WHEN line_item_resource_id LIKE 'i-%' THEN 'Compute Instance'
        WHEN line_item_resource_id LIKE 'vol-%' THEN 'Storage'
        WHEN line_item_resource_id LIKE 'snap-%' THEN 'Storage Snapshot'
        -- arn:partition:service:region:account:type/id (a Savings Plan's fee: savingsplan)
        WHEN line_item_resource_id LIKE 'arn:%'
            THEN nullif(split_part(split_part(line_item_resource_id, ':', 6), '/', 1), '')
    END AS ResourceType,
    -- A product code not listed takes the category of the name AWS gives it, so a name keeps
    -- one category whichever code bills it.
    coalesce(
        element_at(category_by_key, service_key),
        element_at(category_by_name, unlisted_name),
        'Other'
    ) AS ServiceCategory,
    coalesce(element_at(name_by_key, service_key), unlisted_name) AS ServiceName,
    coalesce(
        element_at(subcategory_by_key, service_key),
        element_at(subcategory_by_name, unlisted_name),
        'Other (Other)'
    ) AS ServiceSubcategory,
    nullif(product_sku, '') AS SkuId,
    -- AWS's usage type is what a SKU meters (AWS's FOCUS 1.2 export moved x_UsageType here).
    CASE WHEN nullif(product_sku, '') IS NOT NULL THEN nullif(usage_type, '') END AS SkuMeter,
    sku_price_id AS SkuPriceId,
    -- What the CUR says of a price: its term and, for a reservation's rate, the offering.
    -- Custom properties, so x_-prefixed.
    CASE
        WHEN sku_price_id IS NULL OR nullif(pricing_term, '') IS NULL THEN NULL
        WHEN nullif(pricing_lease_contract_length, '') IS NOT NULL
            AND nullif(pricing_purchase_option, '') IS NOT NULL
            AND nullif(pricing_offering_class, '') IS NOT NULL
            THEN json_format(CAST(MAP(
                ARRAY['x_PricingTerm', 'x_LeaseContractLength', 'x_PurchaseOption', 'x_OfferingClass'],
                ARRAY[pricing_term, pricing_lease_contract_length, pricing_purchase_option, pricing_offering_class]
            ) AS JSON))
        ELSE json_format(CAST(MAP(ARRAY['x_PricingTerm'], ARRAY[pricing_term]) AS JSON))
    END AS SkuPriceDetails,
    account_id AS SubAccountId,
    -- Legacy CUR has no account names: the id, as BillingAccountName does.
    coalesce(nullif(line_item_usage_account_name, ''), account_id) AS SubAccountName,
    CASE
        WHEN cost_category_json = '{}' THEN nullif(tags_json, '{}')
        WHEN tags_json = '{}' THEN cost_category_json
        ELSE concat(substr(tags_json, 1, length(tags_json) - 1), ',', substr(cost_category_json, 2))
    END AS Tags,
    line_item_type AS x_LineItemType,
    nullif(usage_type, '') AS x_UsageType,
    nullif(operation, '') AS x_Operation,
    product_code AS x_ProductCode,
    nullif(pricing_unit, '') AS x_PricingUnit,
    nullif(pricing_term, '') AS x_PricingTerm,
    identity_line_item_id AS x_LineItemId,
    nullif(bill_invoicing_entity, '') AS x_InvoicingEntity,
    org,
    year,
    month
FROM priced
