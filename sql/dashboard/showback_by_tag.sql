-- Showback of one tenant x month by cost allocation tag, from cost_by_tag. Grain: one row per
-- tag_key and tag_value (the untagged value included). Unblended and amortized cost, line items,
-- and the value's share of the key's amortized total (each key's rows add up to the tenant's
-- total, so the shares of a key add up to 1). The key totals are a join, not a window: DuckDB
-- 2.0.1 rewrites SUM() OVER (PARTITION BY ...) into a self-join that loses the partition filter.
-- Parameters: database, org, year, month.
WITH by_value AS (
    SELECT
        tag_key,
        tag_value,
        sum(unblended_cost) AS unblended_cost,
        sum(amortized_cost) AS amortized_cost,
        sum(line_items) AS line_items
    FROM {{ database }}.cost_by_tag
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    GROUP BY tag_key, tag_value
),
by_key AS (
    SELECT tag_key, sum(amortized_cost) AS amortized_cost
    FROM by_value
    GROUP BY tag_key
)
SELECT
    by_value.tag_key,
    by_value.tag_value,
    by_value.unblended_cost,
    by_value.amortized_cost,
    by_value.line_items,
    CAST(by_value.amortized_cost AS DOUBLE)
        / nullif(CAST(by_key.amortized_cost AS DOUBLE), 0) AS amortized_share
FROM by_value
JOIN by_key ON by_value.tag_key = by_key.tag_key
ORDER BY by_value.tag_key, by_value.amortized_cost DESC, by_value.tag_value
