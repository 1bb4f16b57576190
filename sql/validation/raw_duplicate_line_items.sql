-- Line items of one tenant x month that occur more than once. A CUR line item is identified by
-- (identity_line_item_id, identity_time_interval); the id alone repeats across hours.
-- Returns one row: the number of duplicated keys and the extra rows they add.
-- Grouping every (id, interval) pair at once holds the whole month in a hash table (20M rows
-- fill a 2 GB DuckDB memory limit). So, first, each line item id collects its intervals as
-- small numbers; an id with a number twice in its list is a candidate (almost never), and only
-- the candidates' rows are grouped by the full key. NULL matches NULL, as in GROUP BY.
-- Parameters: relation (the month's rows).
WITH intervals AS (
    SELECT identity_time_interval, row_number() OVER () AS interval_number
    FROM (SELECT DISTINCT identity_time_interval FROM {{ relation }}) AS distinct_intervals
),
per_id AS (
    SELECT line_items.identity_line_item_id, array_agg(intervals.interval_number) AS numbers
    FROM {{ relation }} AS line_items
    JOIN intervals
        ON line_items.identity_time_interval IS NOT DISTINCT FROM intervals.identity_time_interval
    GROUP BY line_items.identity_line_item_id
),
candidates AS (
    SELECT identity_line_item_id
    FROM per_id
    WHERE cardinality(numbers) > cardinality(array_distinct(numbers))
)
SELECT
    count(*) AS duplicated_keys,
    coalesce(sum(copies - 1), 0) AS extra_rows
FROM (
    SELECT line_items.identity_line_item_id, line_items.identity_time_interval, count(*) AS copies
    FROM {{ relation }} AS line_items
    JOIN candidates
        ON line_items.identity_line_item_id IS NOT DISTINCT FROM candidates.identity_line_item_id
    GROUP BY line_items.identity_line_item_id, line_items.identity_time_interval
    HAVING count(*) > 1
) AS duplicates
