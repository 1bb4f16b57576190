-- Daily amortized cost of one tenant over a month and the months of history before it, at the
-- grain cost_anomalies and cost_forecast judge: one row per usage_date, product_code,
-- account_id, usage_type, currency and whether it is usage (charge category Usage; fees,
-- taxes and credits are not judged as anomalies but count in the forecast).
-- Parameters: database, org, year, month, history_year, history_month.
SELECT
    usage_date,
    product_code,
    account_id,
    usage_type,
    currency,
    charge_category = 'Usage' AS is_usage,
    CAST(sum(amortized_cost) AS DOUBLE) AS cost
FROM {{ database }}.cost_daily
WHERE org = {{ org }}
    AND (year > {{ history_year }} OR (year = {{ history_year }} AND month >= {{ history_month }}))
    AND (year < {{ year }} OR (year = {{ year }} AND month <= {{ month }}))
GROUP BY usage_date, product_code, account_id, usage_type, currency, charge_category = 'Usage'
