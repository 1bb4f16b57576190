-- For one tenant x month: does cost_monthly_summary add up to cost_daily, to the cent?
-- Returns one row: passed, both totals and their difference.
-- Parameters: database, org, year, month.
WITH daily AS (
    SELECT coalesce(sum(amortized_cost), 0) AS amortized_cost
    FROM {{ database }}.cost_daily
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
),
summary AS (
    SELECT coalesce(sum(amortized_cost), 0) AS amortized_cost
    FROM {{ database }}.cost_monthly_summary
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
)
SELECT
    abs(daily.amortized_cost - summary.amortized_cost) < 0.005 AS passed,
    daily.amortized_cost AS daily_amortized_cost,
    summary.amortized_cost AS summary_amortized_cost,
    abs(daily.amortized_cost - summary.amortized_cost) AS difference
FROM daily CROSS JOIN summary
