-- For one month: does cost_cross_org_monthly add up to the tenants' curated cost_daily, per
-- tenant, to the cent? Returns one row: passed, the tenants compared, the number that differ,
-- and the largest difference.
-- Parameters: central_database, year, month.
WITH tenants AS (
    SELECT org, sum(amortized_cost) AS amortized_cost, sum(unblended_cost) AS unblended_cost
    FROM {{ central_database }}.cost_daily
    WHERE year = {{ year }} AND month = {{ month }}
    GROUP BY org
),
cross_org AS (
    SELECT org, sum(amortized_cost) AS amortized_cost, sum(unblended_cost) AS unblended_cost
    FROM {{ central_database }}.cost_cross_org_monthly
    WHERE year = {{ year }} AND month = {{ month }}
    GROUP BY org
),
compared AS (
    SELECT
        greatest(
            abs(coalesce(t.amortized_cost, 0) - coalesce(c.amortized_cost, 0)),
            abs(coalesce(t.unblended_cost, 0) - coalesce(c.unblended_cost, 0))
        ) AS difference
    FROM tenants AS t
    FULL OUTER JOIN cross_org AS c ON t.org = c.org
)
SELECT
    coalesce(bool_and(difference < 0.005), true) AS passed,
    count(*) AS tenants,
    count_if(difference >= 0.005) AS tenants_differing,
    max(difference) AS largest_difference
FROM compared
