-- For one month across tenants: is cost_cross_org_monthly in one currency? Totals across
-- tenants (the central dashboard) add up its rows as one currency. Returns one row: passed, the
-- number of currencies and each tenant's currencies.
-- Parameters: central_database, year, month.
SELECT
    count(DISTINCT currency) <= 1 AS passed,
    count(DISTINCT currency) AS currencies,
    array_join(
        array_sort(array_agg(DISTINCT concat(org, ': ', coalesce(currency, '(none)')))), ', '
    ) AS tenant_currencies
FROM {{ central_database }}.cost_cross_org_monthly
WHERE year = {{ year }} AND month = {{ month }}
