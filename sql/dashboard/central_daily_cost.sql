-- Every tenant's cost per usage day of one billing month, from the central database's cost_daily
-- (the tenants' curated cost_daily; never raw data). Grain: one row per usage_date and org.
-- Parameters: database (the central database), year, month.
SELECT
    usage_date,
    org,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost
FROM {{ database }}.cost_daily
WHERE year = {{ year }} AND month = {{ month }}
GROUP BY usage_date, org
ORDER BY usage_date, org
