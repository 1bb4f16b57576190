-- Every tenant's cost per billing month over a range of months, from cost_cross_org_monthly in
-- the central database (Overview, all tenants side by side). Grain: one row per billing_period
-- and org. Unblended, amortized and net amortized totals and the number of line items.
-- Parameters: database (the central database), first_year, last_year, first_period,
-- last_period (YYYYMM).
SELECT
    billing_period,
    org,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    sum(net_amortized_cost) AS net_amortized_cost,
    sum(line_items) AS line_items
FROM {{ database }}.cost_cross_org_monthly
WHERE year BETWEEN {{ first_year }} AND {{ last_year }}
    AND year * 100 + month BETWEEN {{ first_period }} AND {{ last_period }}
GROUP BY billing_period, org
ORDER BY billing_period, org
