-- Daily cost of one tenant x month. Grain: one row per usage_date, account_id, product_code,
-- usage_type, operation, region, line_item_type and currency (the CUR's line item currency: a
-- payer billed in INR and one in USD stay apart). Unblended, amortized (CID formula), net
-- amortized (NULL where the CUR has no net columns) and public on-demand cost, usage and the
-- number of line items.
-- Parameters: database, org, year, month, period_start.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
)
SELECT
    {{ period_start }} AS billing_period,
    usage_date,
    account_id,
    product_code,
    usage_type,
    operation,
    region,
    line_item_type,
    charge_category,
    line_item_currency_code AS currency,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    sum(net_amortized_cost) AS net_amortized_cost,
    sum(public_cost) AS public_cost,
    sum(usage_amount) AS usage_amount,
    count(*) AS line_items
FROM line_items
GROUP BY usage_date, account_id, product_code, usage_type, operation, region, line_item_type,
    charge_category, line_item_currency_code
