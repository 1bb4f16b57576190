-- Monthly cost of one tenant per account, service (product_code) and currency, from cost_daily.
-- Grain: one row per account_id, service and currency. The change versus last month is not
-- stored: it is computed when read, from this month's partition and last month's
-- (sql/dashboard/top_services.sql), so a restated last month never leaves this one behind.
-- Parameters: database, org, year, month, period_start.
SELECT
    {{ period_start }} AS billing_period,
    account_id,
    product_code AS service,
    currency,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    sum(net_amortized_cost) AS net_amortized_cost,
    CAST(sum(line_items) AS BIGINT) AS line_items
FROM {{ database }}.cost_daily
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
GROUP BY account_id, product_code, currency
