-- Reserved Instance and Savings Plans commitments of every tenant per billing month over a range
-- of months, from the central database's cost_daily (the tenants' curated cost_daily; never raw
-- data). Grain: one row per billing_period, org and commitment. The columns and their meaning
-- are those of dashboard/commitments.sql, per tenant.
-- Parameters: database (the central database), first_year, last_year, first_period,
-- last_period (YYYYMM).
WITH lines AS (
    SELECT
        billing_period,
        org,
        CASE
            WHEN line_item_type IN ('DiscountedUsage', 'RIFee', 'Fee') THEN 'Reserved Instances'
            ELSE 'Savings Plans'
        END AS commitment,
        line_item_type IN ('DiscountedUsage', 'SavingsPlanCoveredUsage') AS covered,
        line_item_type IN ('RIFee', 'SavingsPlanRecurringFee') AS recurring_fee,
        coalesce(public_cost, 0) AS public_cost,
        amortized_cost,
        unblended_cost,
        line_items
    FROM {{ database }}.cost_daily
    WHERE year BETWEEN {{ first_year }} AND {{ last_year }}
        AND year * 100 + month BETWEEN {{ first_period }} AND {{ last_period }}
        AND (
            line_item_type IN (
                'DiscountedUsage', 'RIFee', 'SavingsPlanCoveredUsage', 'SavingsPlanRecurringFee',
                'SavingsPlanUpfrontFee'
            )
            OR (line_item_type = 'Fee' AND amortized_cost = 0 AND unblended_cost <> 0)
        )
),
totals AS (
    SELECT
        billing_period,
        org,
        commitment,
        sum(CASE WHEN covered THEN public_cost ELSE 0 END) AS covered_on_demand_cost,
        sum(CASE WHEN covered THEN amortized_cost ELSE 0 END) AS covered_effective_cost,
        sum(CASE WHEN recurring_fee THEN amortized_cost ELSE 0 END) AS unused_commitment,
        sum(CASE WHEN covered THEN 0 ELSE unblended_cost END) AS commitment_fees,
        sum(CASE WHEN covered THEN line_items ELSE 0 END) AS covered_line_items
    FROM lines
    GROUP BY billing_period, org, commitment
)
SELECT
    billing_period,
    org,
    commitment,
    covered_on_demand_cost,
    covered_effective_cost,
    unused_commitment,
    commitment_fees,
    covered_on_demand_cost - covered_effective_cost - unused_commitment AS net_savings,
    CAST(covered_effective_cost AS DOUBLE)
        / nullif(CAST(covered_effective_cost + unused_commitment AS DOUBLE), 0) AS utilization,
    covered_line_items
FROM totals
ORDER BY billing_period, org, commitment
