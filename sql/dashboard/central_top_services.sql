-- The top services of one billing month across all tenants by amortized cost, with the change
-- versus the previous month, from cost_cross_org_monthly in the central database. Grain: one row
-- per service (all tenants and accounts), at most `limit` rows, largest amortized cost first;
-- previous_amortized_cost is NULL for a service absent last month.
-- Parameters: database (the central database), year, month, previous_year, previous_month, limit.
WITH by_service AS (
    SELECT
        service,
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
    FROM {{ database }}.cost_cross_org_monthly
    WHERE (year = {{ year }} AND month = {{ month }})
        OR (year = {{ previous_year }} AND month = {{ previous_month }})
    GROUP BY service
)
SELECT
    service,
    coalesce(amortized_cost, 0) AS amortized_cost,
    coalesce(unblended_cost, 0) AS unblended_cost,
    previous_amortized_cost,
    coalesce(amortized_cost, 0) - coalesce(previous_amortized_cost, 0) AS amortized_change
FROM by_service
ORDER BY amortized_cost DESC NULLS LAST, service
LIMIT {{ limit }}
