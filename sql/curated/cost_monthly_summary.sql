-- Monthly cost of one tenant per account and service (product_code), with the change versus the
-- previous month as it stands in cost_daily. Grain: one row per account_id and service present in
-- either month; a service gone this month shows 0 and its drop.
-- Parameters: database, org, year, month, period_start, previous_year, previous_month,
-- previous_period_start.
WITH months AS (
    SELECT
        billing_period,
        account_id,
        product_code,
        sum(unblended_cost) AS unblended_cost,
        sum(amortized_cost) AS amortized_cost
    FROM {{ database }}.cost_daily
    WHERE org = {{ org }}
        AND (
            (year = {{ year }} AND month = {{ month }})
            OR (year = {{ previous_year }} AND month = {{ previous_month }})
        )
    GROUP BY billing_period, account_id, product_code
),
current_month AS (
    SELECT * FROM months WHERE billing_period = {{ period_start }}
),
previous_month AS (
    SELECT * FROM months WHERE billing_period = {{ previous_period_start }}
)
SELECT
    {{ period_start }} AS billing_period,
    coalesce(c.account_id, p.account_id) AS account_id,
    coalesce(c.product_code, p.product_code) AS service,
    coalesce(c.unblended_cost, 0) AS unblended_cost,
    coalesce(c.amortized_cost, 0) AS amortized_cost,
    p.unblended_cost AS previous_unblended_cost,
    p.amortized_cost AS previous_amortized_cost,
    coalesce(c.unblended_cost, 0) - coalesce(p.unblended_cost, 0) AS unblended_change,
    coalesce(c.amortized_cost, 0) - coalesce(p.amortized_cost, 0) AS amortized_change,
    CAST(
        (coalesce(c.amortized_cost, 0) - p.amortized_cost) / nullif(p.amortized_cost, 0)
        AS DOUBLE
    ) AS amortized_change_ratio
FROM current_month AS c
FULL OUTER JOIN previous_month AS p
    ON c.account_id = p.account_id AND c.product_code = p.product_code
