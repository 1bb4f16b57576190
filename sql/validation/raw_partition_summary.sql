-- What the catalog shows of one tenant x month of tb_cur_raw: rows, last usage start, exact
-- unblended total and the delivery (assembly) it came from. One row.
-- Parameters: database, org, year, month.
SELECT
    count(*) AS row_count,
    max(line_item_usage_start_date) AS max_usage_start,
    sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS unblended_cost,
    max(x_assembly_id) AS assembly_id
FROM {{ database }}.tb_cur_raw
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
