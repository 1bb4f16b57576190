-- One tenant's top services of one billing month by amortized cost, with the change versus the
-- previous month, from cost_monthly_summary. Grain: one row per service (all accounts), at most
-- `limit` rows, largest amortized cost first.
-- Parameters: database, org, year, month, limit.
SELECT
    service,
    sum(amortized_cost) AS amortized_cost,
    sum(unblended_cost) AS unblended_cost,
    sum(previous_amortized_cost) AS previous_amortized_cost,
    sum(amortized_change) AS amortized_change
FROM {{ database }}.cost_monthly_summary
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
GROUP BY service
ORDER BY amortized_cost DESC, service
LIMIT {{ limit }}
