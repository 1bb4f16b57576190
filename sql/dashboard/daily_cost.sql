-- One tenant's cost per usage day of one billing month, from cost_daily (Overview daily chart).
-- Grain: one row per usage_date. Unblended and amortized totals.
-- Parameters: database, org, year, month.
SELECT
    usage_date,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost
FROM {{ database }}.cost_daily
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
GROUP BY usage_date
ORDER BY usage_date
