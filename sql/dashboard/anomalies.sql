-- One tenant's cost anomalies of one billing month, from cost_anomalies (Anomalies & forecast
-- page): those of the latest load (new or continuing), largest impact first.
-- Grain: one row per usage_date, level and key. Parameters: database, org, year, month.
SELECT usage_date, level, key, actual, expected, upper, impact, impact_pct, drivers, status
FROM {{ database }}.cost_anomalies
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }} AND status <> 'withdrawn'
ORDER BY impact DESC, usage_date, level, key
