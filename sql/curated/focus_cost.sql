-- One tenant x month of cost in FOCUS 1.2 shape: all 21 mandatory columns plus SubAccountId and
-- x_ extensions. Grain: one row per charge day, billing and sub account, service, region, line
-- item type (x_LineItemType), usage type, pricing unit and billing entity.
-- BilledCost is unblended, EffectiveCost amortized (CID formula), ContractedCost net where the CUR
-- has net columns and before commitment discounts, ListCost public on-demand. Costs are
-- DECIMAL(38, 10).
-- Parameters: database, org, year, month.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
)
SELECT
    sum(unblended_cost) AS BilledCost,
    bill_payer_account_id AS BillingAccountId,
    coalesce(max(bill_payer_account_name), bill_payer_account_id) AS BillingAccountName,
    coalesce(line_item_currency_code, 'USD') AS BillingCurrency,
    bill_billing_period_start_date AS BillingPeriodStart,
    bill_billing_period_end_date AS BillingPeriodEnd,
    charge_category AS ChargeCategory,
    CAST(NULL AS VARCHAR) AS ChargeClass,
    max(line_item_line_item_description) AS ChargeDescription,
    CAST(usage_date AS TIMESTAMP) AS ChargePeriodStart,
    CAST(date_add('day', 1, usage_date) AS TIMESTAMP) AS ChargePeriodEnd,
    -- FOCUS: the contracted price (negotiated discounts in), without commitment discounts. Usage
    -- a Reserved Instance covered is billed at 0, so it counts at its on-demand cost (the CUR has
    -- no negotiated price for it); a Savings Plan's negation of the usage it covered counts 0.
    sum(
        CASE
            WHEN line_item_type = 'DiscountedUsage' THEN coalesce(public_cost, 0)
            WHEN line_item_type = 'SavingsPlanNegation' THEN 0
            ELSE coalesce(net_unblended_cost, unblended_cost)
        END
    ) AS ContractedCost,
    sum(amortized_cost) AS EffectiveCost,
    coalesce(max(bill_invoicing_entity), 'Amazon Web Services, Inc.') AS InvoiceIssuerName,
    sum(coalesce(public_cost, 0)) AS ListCost,
    CAST(sum(usage_amount) AS DECIMAL(38, 10)) AS PricingQuantity,
    pricing_unit AS PricingUnit,
    'AWS' AS ProviderName,
    CASE WHEN bill_billing_entity = 'AWS Marketplace' THEN 'AWS Marketplace' ELSE 'AWS' END
        AS PublisherName,
    CASE
        WHEN product_code IN (
            'AmazonEC2', 'AWSLambda', 'AmazonECS', 'AmazonEKS', 'ComputeSavingsPlans',
            'AmazonLightsail', 'AWSBatch'
        ) THEN 'Compute'
        WHEN product_code IN ('AmazonS3', 'AmazonGlacier', 'AmazonEFS', 'AWSBackup', 'AmazonFSx')
            THEN 'Storage'
        WHEN product_code IN (
            'AmazonRDS', 'AmazonDynamoDB', 'AmazonElastiCache', 'AmazonDocDB', 'AmazonNeptune'
        ) THEN 'Databases'
        WHEN product_code IN (
            'AmazonCloudFront', 'AmazonVPC', 'AWSELB', 'AmazonRoute53', 'AWSDataTransfer',
            'AmazonApiGateway'
        ) THEN 'Networking'
        WHEN product_code IN (
            'AmazonAthena', 'AWSGlue', 'AmazonRedshift', 'AmazonQuickSight', 'AmazonKinesis',
            'AmazonES'
        ) THEN 'Analytics'
        WHEN product_code IN ('AmazonSageMaker', 'AmazonBedrock', 'AmazonRekognition')
            THEN 'AI and Machine Learning'
        WHEN product_code IN ('AWSQueueService', 'AmazonSNS', 'AWSEvents', 'AmazonMQ')
            THEN 'Integration'
        WHEN product_code IN ('awskms', 'AmazonGuardDuty', 'AWSSecretsManager', 'AWSWAF')
            THEN 'Security'
        WHEN product_code IN ('AmazonCloudWatch', 'AWSCloudTrail', 'AWSConfig', 'AWSBudgets')
            THEN 'Management and Governance'
        ELSE 'Other'
    END AS ServiceCategory,
    coalesce(max(element_at(product, 'servicename')), product_code) AS ServiceName,
    account_id AS SubAccountId,
    region AS RegionId,
    line_item_type AS x_LineItemType,
    usage_type AS x_UsageType,
    product_code AS x_ProductCode
FROM line_items
GROUP BY bill_payer_account_id, line_item_currency_code, bill_billing_period_start_date,
    bill_billing_period_end_date, charge_category, usage_date, pricing_unit, bill_billing_entity,
    product_code, account_id, region, line_item_type, usage_type
