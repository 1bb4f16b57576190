-- Tag coverage of one tenant x month, from cost_by_tag: per configured tag key, the cost that
-- carries the key (any value) and the untagged cost. Grain: one row per tag_key. Coverage is the
-- tagged share of the amortized and of the unblended total (NULL when the total is 0).
-- Parameters: database, org, year, month, untagged.
WITH per_key AS (
    SELECT
        tag_key,
        sum(amortized_cost) AS amortized_cost,
        sum(CASE WHEN tag_value <> {{ untagged }} THEN amortized_cost ELSE 0 END)
            AS tagged_amortized_cost,
        sum(unblended_cost) AS unblended_cost,
        sum(CASE WHEN tag_value <> {{ untagged }} THEN unblended_cost ELSE 0 END)
            AS tagged_unblended_cost
    FROM {{ database }}.cost_by_tag
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    GROUP BY tag_key
)
SELECT
    tag_key,
    amortized_cost,
    tagged_amortized_cost,
    amortized_cost - tagged_amortized_cost AS untagged_amortized_cost,
    CAST(tagged_amortized_cost AS DOUBLE) / nullif(CAST(amortized_cost AS DOUBLE), 0)
        AS amortized_coverage,
    unblended_cost,
    tagged_unblended_cost,
    CAST(tagged_unblended_cost AS DOUBLE) / nullif(CAST(unblended_cost AS DOUBLE), 0)
        AS unblended_coverage
FROM per_key
ORDER BY tag_key
