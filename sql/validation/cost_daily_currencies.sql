-- For one tenant x month: is cost_daily in one currency? Totals over the month (the run
-- summary, the dashboard, cross-org) add up its rows as one currency. Returns one row: passed,
-- the number of currencies and their codes.
-- Parameters: database, org, year, month.
SELECT
    count(DISTINCT currency) <= 1 AS passed,
    count(DISTINCT currency) AS currencies,
    array_join(array_sort(array_agg(DISTINCT currency)), ', ') AS currency_codes
FROM {{ database }}.cost_daily
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
