-- Raw CUR line items (every tb_cur_raw column as delivered, the partition columns org, year
-- and month included) with the cost measures every curated table shares. amortized_cost
-- follows the AWS Cloud Intelligence Dashboards formula (DESIGN.md); the net measures use the
-- CUR's net_* columns and are NULL where the delivery has none (legacy CUR without discounts).
-- Money is DECIMAL(38, 10), so sums compare exactly. A query names only the columns it needs:
-- the engines read no others. The whole table: a query that includes it picks its tenant x
-- month with a WHERE right after the include (`WHERE org = ... AND year = ... AND month = ...`),
-- which the engines push down to the partitions' files; a view (focus_cost) leaves that to
-- whoever reads it.
-- Parameters: database.
SELECT
    *,
    CAST(line_item_usage_start_date AS DATE) AS usage_date,
    line_item_usage_account_id AS account_id,
    line_item_product_code AS product_code,
    line_item_usage_type AS usage_type,
    line_item_operation AS operation,
    product_region_code AS region,
    line_item_line_item_type AS line_item_type,
    line_item_usage_amount AS usage_amount,
    CAST(line_item_unblended_cost AS DECIMAL(38, 10)) AS unblended_cost,
    CAST(line_item_net_unblended_cost AS DECIMAL(38, 10)) AS net_unblended_cost,
    CAST(pricing_public_on_demand_cost AS DECIMAL(38, 10)) AS public_cost,
    CAST(
        CASE
            WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage'
                THEN coalesce(savings_plan_savings_plan_effective_cost, 0)
            WHEN line_item_line_item_type = 'SavingsPlanRecurringFee'
                THEN coalesce(savings_plan_total_commitment_to_date, 0)
                    - coalesce(savings_plan_used_commitment, 0)
            WHEN line_item_line_item_type IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee')
                THEN 0
            WHEN line_item_line_item_type = 'DiscountedUsage'
                THEN coalesce(reservation_effective_cost, 0)
            WHEN line_item_line_item_type = 'RIFee'
                THEN coalesce(reservation_unused_amortized_upfront_fee_for_billing_period, 0)
                    + coalesce(reservation_unused_recurring_fee, 0)
            WHEN line_item_line_item_type = 'Fee' AND coalesce(reservation_reservation_a_r_n, '') <> ''
                THEN 0
            ELSE line_item_unblended_cost
        END AS DECIMAL(38, 10)
    ) AS amortized_cost,
    CAST(
        CASE
            WHEN line_item_net_unblended_cost IS NULL THEN NULL
            WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage'
                THEN coalesce(savings_plan_net_savings_plan_effective_cost, 0)
            WHEN line_item_line_item_type = 'SavingsPlanRecurringFee'
                THEN (
                    coalesce(savings_plan_total_commitment_to_date, 0)
                    - coalesce(savings_plan_used_commitment, 0)
                ) * CASE
                    WHEN savings_plan_payment_option = 'All Upfront'
                        THEN coalesce(
                            savings_plan_net_amortized_upfront_commitment_for_billing_period
                            / nullif(savings_plan_amortized_upfront_commitment_for_billing_period, 0),
                            1
                        )
                    ELSE coalesce(
                        savings_plan_net_recurring_commitment_for_billing_period
                        / nullif(savings_plan_recurring_commitment_for_billing_period, 0),
                        1
                    )
                END
            WHEN line_item_line_item_type IN ('SavingsPlanNegation', 'SavingsPlanUpfrontFee')
                THEN 0
            WHEN line_item_line_item_type = 'DiscountedUsage'
                THEN coalesce(reservation_net_effective_cost, 0)
            WHEN line_item_line_item_type = 'RIFee'
                THEN coalesce(reservation_net_unused_amortized_upfront_fee_for_billing_period, 0)
                    + coalesce(reservation_net_unused_recurring_fee, 0)
            WHEN line_item_line_item_type = 'Fee' AND coalesce(reservation_reservation_a_r_n, '') <> ''
                THEN 0
            ELSE line_item_net_unblended_cost
        END AS DECIMAL(38, 10)
    ) AS net_amortized_cost,
    CASE
        WHEN line_item_line_item_type IN (
            'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'
        ) THEN 'Usage'
        WHEN line_item_line_item_type IN (
            'RIFee', 'Fee', 'SavingsPlanUpfrontFee', 'SavingsPlanRecurringFee'
        ) THEN 'Purchase'
        WHEN line_item_line_item_type = 'Tax' THEN 'Tax'
        WHEN line_item_line_item_type = 'Refund' THEN 'Adjustment'
        WHEN line_item_line_item_type IN (
            'Credit', 'BundledDiscount', 'EdpDiscount', 'PrivateRateDiscount', 'RiVolumeDiscount',
            'DistributorDiscount', 'SppDiscount'
        ) THEN 'Credit'
        -- A type this list does not know (or none): a cost reduces the bill, else it is usage.
        WHEN line_item_unblended_cost < 0 THEN 'Credit'
        ELSE 'Usage'
    END AS charge_category
FROM {{ database }}.tb_cur_raw
