-- Monthly cost of one tenant per account and service (product_code), with the change versus the
-- previous month as it stands in cost_daily. Grain: one row per account_id and service present in
-- either month; a service gone this month shows 0 and its drop.
-- Parameters: database, org, year, month, period_start, previous_year, previous_month,
-- previous_period_start.
-- Both months meet by GROUP BY, not by a join, so a NULL account or service matches itself.
WITH by_service AS (
    SELECT
        account_id,
        product_code,
        sum(CASE WHEN billing_period = {{ period_start }} THEN unblended_cost END)
            AS unblended_cost,
        sum(CASE WHEN billing_period = {{ period_start }} THEN amortized_cost END)
            AS amortized_cost,
        sum(CASE WHEN billing_period = {{ previous_period_start }} THEN unblended_cost END)
            AS previous_unblended_cost,
        sum(CASE WHEN billing_period = {{ previous_period_start }} THEN amortized_cost END)
            AS previous_amortized_cost
    FROM {{ database }}.cost_daily
    WHERE org = {{ org }}
        AND (
            (year = {{ year }} AND month = {{ month }})
            OR (year = {{ previous_year }} AND month = {{ previous_month }})
        )
    GROUP BY account_id, product_code
)
SELECT
    {{ period_start }} AS billing_period,
    account_id,
    product_code AS service,
    coalesce(unblended_cost, 0) AS unblended_cost,
    coalesce(amortized_cost, 0) AS amortized_cost,
    previous_unblended_cost,
    previous_amortized_cost,
    coalesce(unblended_cost, 0) - coalesce(previous_unblended_cost, 0) AS unblended_change,
    coalesce(amortized_cost, 0) - coalesce(previous_amortized_cost, 0) AS amortized_change,
    CAST(
        (coalesce(amortized_cost, 0) - previous_amortized_cost)
            / nullif(previous_amortized_cost, 0)
        AS DOUBLE
    ) AS amortized_change_ratio
FROM by_service
