-- For one tenant x month: do each tag key's parts (values plus untagged) add up to the total of
-- cost_daily, to the cent? Returns one row: passed, the number of keys whose parts do not add up,
-- the total and the largest difference.
-- Parameters: database, org, year, month.
WITH total AS (
    SELECT
        coalesce(sum(unblended_cost), 0) AS unblended_cost,
        coalesce(sum(amortized_cost), 0) AS amortized_cost
    FROM {{ database }}.cost_daily
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
),
per_key AS (
    SELECT tag_key, sum(unblended_cost) AS unblended_cost, sum(amortized_cost) AS amortized_cost
    FROM {{ database }}.cost_by_tag
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    GROUP BY tag_key
),
compared AS (
    SELECT
        per_key.tag_key,
        greatest(
            abs(per_key.unblended_cost - total.unblended_cost),
            abs(per_key.amortized_cost - total.amortized_cost)
        ) AS difference
    FROM per_key
    CROSS JOIN total
)
SELECT
    coalesce(bool_and(difference < 0.005), true) AS passed,
    count_if(difference >= 0.005) AS keys_not_adding_up,
    count(*) AS tag_keys,
    max(total.unblended_cost) AS total_unblended_cost,
    max(difference) AS largest_difference
FROM total
LEFT JOIN compared ON true
