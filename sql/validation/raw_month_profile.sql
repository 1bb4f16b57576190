-- Profile of one tenant x month of raw CUR, used to validate a delivery before it replaces the
-- live month and to report the raw checks. Returns one row: row count, rows whose usage starts
-- outside the billing period, rows stamped with another billing period, first and last usage
-- start, and the exact (decimal) unblended total.
-- Parameters: relation (the month's rows), period_start, period_end (first day of next month).
SELECT
    count(*) AS row_count,
    count_if(
        line_item_usage_start_date < {{ period_start }}
        OR line_item_usage_start_date >= {{ period_end }}
        OR line_item_usage_start_date IS NULL
    ) AS rows_outside_period,
    count_if(
        CAST(bill_billing_period_start_date AS DATE) <> {{ period_start }}
        OR bill_billing_period_start_date IS NULL
    ) AS rows_other_billing_period,
    min(line_item_usage_start_date) AS min_usage_start,
    max(line_item_usage_start_date) AS max_usage_start,
    sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS unblended_cost,
    count(DISTINCT line_item_usage_account_id) AS usage_accounts,
    count(DISTINCT bill_payer_account_id) AS payer_accounts
FROM {{ relation }}
