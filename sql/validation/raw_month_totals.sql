-- One tenant x month's cost totals computed straight from its raw line items (tb_cur_raw), with
-- the same cost measures as the curated tables but none of their files: the independent side of
-- the cross-org reconciliation, so a falsified curated table cannot vouch for itself.
-- Grain: one row (the tenant's month). Parameters: database, org, year, month.
SELECT
    coalesce(sum(unblended_cost), 0) AS unblended_cost,
    coalesce(sum(amortized_cost), 0) AS amortized_cost,
    count(*) AS line_items
FROM (
    {{ include fragments/line_item_costs.sql }}
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
) AS line_items
