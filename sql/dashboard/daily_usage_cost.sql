-- One tenant's cost per usage day of one billing month, from cost_daily (Anomalies & forecast
-- page): the usage cost cost_anomalies judges (charge category Usage) and all amortized cost.
-- Grain: one row per usage_date. Parameters: database, org, year, month.
SELECT
    usage_date,
    sum(CASE WHEN charge_category = 'Usage' THEN amortized_cost ELSE 0 END) AS usage_cost,
    sum(amortized_cost) AS amortized_cost
FROM {{ database }}.cost_daily
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
GROUP BY usage_date
ORDER BY usage_date
