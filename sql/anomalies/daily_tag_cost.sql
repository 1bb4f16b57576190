-- Daily amortized cost per tag value of the tenant's configured cost allocation tags, over a
-- month and the months of history before it (untagged cost is left out: it is no tag value's).
-- Grain: one row per usage_date, tag_key, tag_value, product_code and account_id.
-- Parameters: database, org, year, month, history_year, history_month, tag_keys, untagged.
SELECT
    usage_date,
    tag_key,
    tag_value,
    product_code,
    account_id,
    CAST(sum(amortized_cost) AS DOUBLE) AS cost
FROM {{ database }}.cost_by_tag
WHERE org = {{ org }}
    AND (year > {{ history_year }} OR (year = {{ history_year }} AND month >= {{ history_month }}))
    AND (year < {{ year }} OR (year = {{ year }} AND month <= {{ month }}))
    AND contains({{ tag_keys }}, tag_key)
    AND tag_value <> {{ untagged }}
GROUP BY usage_date, tag_key, tag_value, product_code, account_id
