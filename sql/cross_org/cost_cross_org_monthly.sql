-- Month totals across tenants, per tenant (org), account and service, read from the central
-- database's view of the tenants' curated cost_daily (never from raw data).
-- Grain: one row per org, account_id, service and currency.
-- Parameters: central_database, year, month, period_start.
SELECT
    {{ period_start }} AS billing_period,
    org,
    account_id,
    product_code AS service,
    currency,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    sum(net_amortized_cost) AS net_amortized_cost,
    sum(line_items) AS line_items
FROM {{ central_database }}.cost_daily
WHERE year = {{ year }} AND month = {{ month }}
GROUP BY org, account_id, product_code, currency
