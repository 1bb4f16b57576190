-- Line items of one tenant x month that occur more than once. A CUR line item is identified by
-- (identity_line_item_id, identity_time_interval); the id alone repeats across hours.
-- Returns one row: the number of duplicated keys and the extra rows they add.
-- Parameters: relation (the month's rows).
SELECT
    count(*) AS duplicated_keys,
    coalesce(sum(copies - 1), 0) AS extra_rows
FROM (
    SELECT identity_line_item_id, identity_time_interval, count(*) AS copies
    FROM {{ relation }}
    GROUP BY identity_line_item_id, identity_time_interval
    HAVING count(*) > 1
) AS duplicates
