-- One tenant x month's cost totals from cost_daily, recorded as numeric asset metadata so the
-- Dagster UI plots them per partition. One row.
-- Parameters: database, org, year, month.
SELECT
    CAST(sum(unblended_cost) AS DOUBLE) AS unblended_cost,
    CAST(sum(amortized_cost) AS DOUBLE) AS amortized_cost,
    CAST(sum(net_amortized_cost) AS DOUBLE) AS net_amortized_cost,
    sum(line_items) AS line_items
FROM {{ database }}.cost_daily
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
