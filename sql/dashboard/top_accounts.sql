-- The top usage accounts of one billing month by amortized cost, with the change versus the
-- previous month, from a monthly table with columns org, account_id, amortized_cost and
-- unblended_cost: a tenant's cost_monthly_summary, or cost_cross_org_monthly for all tenants.
-- Grain: one row per org and account_id, at most `limit` rows, largest amortized cost first;
-- previous_amortized_cost is NULL for an account absent last month.
-- Parameters: database, relation (the table), year, month, previous_year, previous_month, limit.
WITH by_account AS (
    SELECT
        org,
        account_id,
        sum(CASE WHEN year = {{ year }} AND month = {{ month }} THEN amortized_cost END)
            AS amortized_cost,
        sum(CASE WHEN year = {{ year }} AND month = {{ month }} THEN unblended_cost END)
            AS unblended_cost,
        sum(
            CASE
                WHEN year = {{ previous_year }} AND month = {{ previous_month }}
                    THEN amortized_cost
            END
        ) AS previous_amortized_cost
    FROM {{ database }}.{{ relation }}
    WHERE (year = {{ year }} AND month = {{ month }})
        OR (year = {{ previous_year }} AND month = {{ previous_month }})
    GROUP BY org, account_id
)
SELECT
    org,
    account_id,
    coalesce(amortized_cost, 0) AS amortized_cost,
    coalesce(unblended_cost, 0) AS unblended_cost,
    previous_amortized_cost,
    coalesce(amortized_cost, 0) - coalesce(previous_amortized_cost, 0) AS amortized_change
FROM by_account
ORDER BY amortized_cost DESC NULLS LAST, org, account_id
LIMIT {{ limit }}
