-- One tenant's top usage accounts of one billing month by amortized cost, with the change versus
-- the previous month, from cost_monthly_summary. Grain: one row per account_id (all services),
-- at most `limit` rows, largest amortized cost first.
-- Parameters: database, org, year, month, limit.
SELECT
    account_id,
    sum(amortized_cost) AS amortized_cost,
    sum(unblended_cost) AS unblended_cost,
    sum(previous_amortized_cost) AS previous_amortized_cost,
    sum(amortized_change) AS amortized_change
FROM {{ database }}.cost_monthly_summary
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
GROUP BY account_id
ORDER BY amortized_cost DESC, account_id
LIMIT {{ limit }}
