-- The original freshness validation query: the last usage start of the current billing month in
-- a tenant's tb_cur_raw and the hours since then, at `now` (UTC; injectable for tests).
-- Returns one row; last_usage_start and hours_lag are NULL when the month has no data yet.
-- Parameters: database, org, now.
SELECT
    max(line_item_usage_start_date) AS last_usage_start,
    (to_unixtime({{ now }}) - to_unixtime(max(line_item_usage_start_date))) / 3600.0 AS hours_lag,
    count(*) AS row_count
FROM {{ database }}.tb_cur_raw
WHERE org = {{ org }} AND year = year({{ now }}) AND month = month({{ now }})
