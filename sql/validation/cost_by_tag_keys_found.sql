-- For one tenant x month: does every configured tag key tag some cost? A key that tags none is
-- most likely misspelled in cost_allocation_tags, or not activated as a cost allocation tag in
-- AWS: all its cost shows as untagged, and its parts still add up. Returns one row: passed, the
-- number of keys and those that tag nothing.
-- Parameters: database, org, year, month, untagged.
WITH per_key AS (
    SELECT tag_key, count_if(tag_value <> {{ untagged }}) AS tagged_rows
    FROM {{ database }}.cost_by_tag
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
    GROUP BY tag_key
)
SELECT
    coalesce(bool_and(tagged_rows > 0), true) AS passed,
    count(*) AS tag_keys,
    array_join(
        array_sort(
            filter(array_agg(CASE WHEN tagged_rows = 0 THEN tag_key END), k -> k IS NOT NULL)
        ),
        ', '
    ) AS keys_tagging_nothing
FROM per_key
