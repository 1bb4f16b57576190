-- Reconciliation of one tenant x month: cost_daily against tb_cur_raw, per line item type.
-- Returns one row: passed when every line item type has the same line item count and the same
-- unblended and amortized totals to the cent, with the raw and curated totals and the largest
-- difference.
-- Parameters: database, org, year, month.
-- The two sides meet by GROUP BY, not by a join, so a NULL line item type matches itself.
WITH sides AS (
    SELECT
        'raw' AS side,
        line_item_type,
        count(*) AS line_items,
        sum(unblended_cost) AS unblended_cost,
        sum(amortized_cost) AS amortized_cost
    FROM (
        {{ include fragments/line_item_costs.sql }}
        WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    ) AS line_items
    GROUP BY line_item_type
    UNION ALL
    SELECT
        'curated' AS side,
        line_item_type,
        sum(line_items) AS line_items,
        sum(unblended_cost) AS unblended_cost,
        sum(amortized_cost) AS amortized_cost
    FROM {{ database }}.cost_daily
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    GROUP BY line_item_type
),
per_type AS (
    SELECT
        sum(CASE WHEN side = 'raw' THEN line_items END) AS raw_line_items,
        sum(CASE WHEN side = 'curated' THEN line_items END) AS curated_line_items,
        sum(CASE WHEN side = 'raw' THEN unblended_cost END) AS raw_unblended,
        sum(CASE WHEN side = 'curated' THEN unblended_cost END) AS curated_unblended,
        sum(CASE WHEN side = 'raw' THEN amortized_cost END) AS raw_amortized,
        sum(CASE WHEN side = 'curated' THEN amortized_cost END) AS curated_amortized
    FROM sides
    GROUP BY line_item_type
),
compared AS (
    SELECT
        coalesce(raw_line_items, 0) = coalesce(curated_line_items, 0) AS same_count,
        abs(coalesce(raw_unblended, 0) - coalesce(curated_unblended, 0)) AS unblended_difference,
        abs(coalesce(raw_amortized, 0) - coalesce(curated_amortized, 0)) AS amortized_difference,
        raw_unblended,
        curated_unblended,
        raw_amortized,
        curated_amortized
    FROM per_type
)
SELECT
    coalesce(
        bool_and(same_count AND unblended_difference < 0.005 AND amortized_difference < 0.005),
        true
    ) AS passed,
    count_if(NOT (same_count AND unblended_difference < 0.005 AND amortized_difference < 0.005))
        AS mismatched_line_item_types,
    count(*) AS line_item_types,
    sum(raw_unblended) AS raw_unblended_cost,
    sum(curated_unblended) AS curated_unblended_cost,
    sum(raw_amortized) AS raw_amortized_cost,
    sum(curated_amortized) AS curated_amortized_cost,
    greatest(max(unblended_difference), max(amortized_difference)) AS largest_difference
FROM compared
