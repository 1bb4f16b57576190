-- One tenant's month-end forecast of one billing month, from cost_forecast (Anomalies &
-- forecast page): the tenant's total and each service's.
-- Grain: one row per level ('total', 'service') and key. Parameters: database, org, year, month.
SELECT level, key, complete_days, days_in_month, actual_to_date, forecast, lower, upper,
    run_rate, currency
FROM {{ database }}.cost_forecast
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    AND level IN ('total', 'service')
ORDER BY level DESC, forecast DESC
