-- Profile of one tenant x month of raw CUR, used to validate a delivery before it replaces the
-- live month and to report the raw checks. Returns one row: row count, rows whose usage starts
-- outside the billing period, rows stamped with another billing period, rows with a cost that is
-- NaN or infinite (no finite cost reaches 1e15: `abs(x) < 1e15` is false for NaN and infinity on
-- both engines), first and last usage start, and the exact (decimal) unblended total of the
-- finite costs.
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
    count_if(
        NOT coalesce(abs(line_item_unblended_cost) < 1e15, true)
        OR NOT coalesce(abs(line_item_net_unblended_cost) < 1e15, true)
        OR NOT coalesce(abs(pricing_public_on_demand_cost) < 1e15, true)
        OR NOT coalesce(abs(reservation_effective_cost) < 1e15, true)
        OR NOT coalesce(abs(savings_plan_savings_plan_effective_cost) < 1e15, true)
    ) AS rows_with_non_finite_cost,
    min(line_item_usage_start_date) AS min_usage_start,
    max(line_item_usage_start_date) AS max_usage_start,
    sum(
        CASE
            WHEN abs(line_item_unblended_cost) < 1e15
                THEN CAST(line_item_unblended_cost AS DECIMAL(38, 10))
        END
    ) AS unblended_cost,
    count(DISTINCT line_item_usage_account_id) AS usage_accounts,
    count(DISTINCT bill_payer_account_id) AS payer_accounts
FROM {{ relation }}
