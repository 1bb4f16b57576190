-- For one tenant x month: does focus_cost add up to cost_daily, to the cent (BilledCost to
-- unblended, EffectiveCost to amortized)? Returns one row: passed, the four totals and the
-- month's number of FOCUS rows (focus_cost is a view: its one scan of the month).
-- Parameters: database, org, year, month.
WITH daily AS (
    SELECT
        coalesce(sum(unblended_cost), 0) AS unblended_cost,
        coalesce(sum(amortized_cost), 0) AS amortized_cost
    FROM {{ database }}.cost_daily
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
),
focus AS (
    SELECT
        coalesce(sum(BilledCost), 0) AS billed_cost,
        coalesce(sum(EffectiveCost), 0) AS effective_cost,
        count(*) AS focus_rows
    FROM {{ database }}.focus_cost
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
)
SELECT
    abs(focus.billed_cost - daily.unblended_cost) < 0.005
        AND abs(focus.effective_cost - daily.amortized_cost) < 0.005 AS passed,
    focus.billed_cost AS billed_cost,
    daily.unblended_cost AS unblended_cost,
    focus.effective_cost AS effective_cost,
    daily.amortized_cost AS amortized_cost,
    focus.focus_rows AS focus_rows
FROM daily CROSS JOIN focus
