-- Completeness of a closed billing month in tb_cur_raw: does the data reach the month's last
-- day? Returns one row: passed, the last usage start and the last day of the month.
-- Parameters: database, org, year, month, last_day.
SELECT
    coalesce(CAST(max(line_item_usage_start_date) AS DATE) >= {{ last_day }}, false) AS passed,
    max(line_item_usage_start_date) AS last_usage_start,
    {{ last_day }} AS last_day
FROM {{ database }}.tb_cur_raw
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
