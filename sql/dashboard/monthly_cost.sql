-- One tenant's cost per billing month over a range of months, from cost_daily (Overview trend and
-- headline figures). Grain: one row per billing_period. Unblended, amortized and net amortized
-- (NULL where the CUR has no net columns) totals and the number of line items.
-- Parameters: database, org, first_year, last_year, first_period, last_period (YYYYMM).
SELECT
    billing_period,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    sum(net_amortized_cost) AS net_amortized_cost,
    sum(line_items) AS line_items
FROM {{ database }}.cost_daily
WHERE org = {{ org }}
    AND year BETWEEN {{ first_year }} AND {{ last_year }}
    AND year * 100 + month BETWEEN {{ first_period }} AND {{ last_period }}
GROUP BY billing_period
ORDER BY billing_period
