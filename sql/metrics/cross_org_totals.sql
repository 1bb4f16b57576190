-- One month's cost totals across tenants from cost_cross_org_monthly, recorded as numeric asset
-- metadata so the Dagster UI plots them per month. One row.
-- Parameters: central_database, year, month.
SELECT
    CAST(sum(unblended_cost) AS DOUBLE) AS unblended_cost,
    CAST(sum(amortized_cost) AS DOUBLE) AS amortized_cost,
    count(DISTINCT org) AS tenant_count
FROM {{ central_database }}.cost_cross_org_monthly
WHERE year = {{ year }} AND month = {{ month }}
