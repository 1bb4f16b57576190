-- One month of cost_cross_org_monthly summed per tenant, to compare with each tenant's totals
-- from its raw month (validation/raw_month_totals.sql).
-- Grain: one row per org. Parameters: central_database, year, month.
SELECT
    org,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    sum(line_items) AS line_items
FROM {{ central_database }}.cost_cross_org_monthly
WHERE year = {{ year }} AND month = {{ month }}
GROUP BY org
