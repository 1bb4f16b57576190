-- The last usage start of one earlier billing month in a tenant's tb_cur_raw and the hours since
-- then, at `now` (UTC): the freshness lag while the current month has no data yet. Reads one
-- partition, the latest loaded before the current month, not the tenant's whole history.
-- Returns one row; last_usage_start and hours_lag are NULL when that month has no rows.
-- Parameters: database, org, year, month, now.
SELECT
    max(line_item_usage_start_date) AS last_usage_start,
    (to_unixtime({{ now }}) - to_unixtime(max(line_item_usage_start_date))) / 3600.0 AS hours_lag
FROM {{ database }}.tb_cur_raw
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
