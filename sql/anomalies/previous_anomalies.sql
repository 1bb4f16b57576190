-- The anomalies the previous load of one tenant x month reported, to tell a new anomaly from
-- one already known and to mark one a restatement made disappear.
-- Grain: one row per usage_date, level and key. Parameters: database, org, year, month.
SELECT *
FROM {{ database }}.cost_anomalies
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
