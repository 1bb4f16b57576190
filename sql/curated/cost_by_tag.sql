-- Showback / chargeback of one tenant x month by its cost allocation tag keys. Grain: one row per
-- tag_key, tag_value, usage_date, account_id and product_code. Every line item counts once per
-- configured key, under its value or under the untagged value, so each key's rows add up to the
-- tenant's total. A key `cost_center` is the user tag `user:cost_center` (map key
-- `user_cost_center`); `aws:createdBy` names an AWS tag. Keys match case-insensitively.
-- Parameters: database, org, year, month, period_start, tag_keys (array), untagged.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
),
tag_keys AS (
    SELECT
        tag_key,
        lower(
            CASE
                WHEN strpos(tag_key, ':') > 0 THEN replace(tag_key, ':', '_')
                ELSE concat('user_', tag_key)
            END
        ) AS map_key
    FROM UNNEST({{ tag_keys }}) AS configured (tag_key)
),
tagged AS (
    SELECT
        tag_keys.tag_key,
        nullif(
            element_at(
                line_items.resource_tags,
                element_at(
                    filter(map_keys(line_items.resource_tags), k -> lower(k) = tag_keys.map_key),
                    1
                )
            ),
            ''
        ) AS tag_value,
        line_items.usage_date,
        line_items.account_id,
        line_items.product_code,
        line_items.unblended_cost,
        line_items.amortized_cost
    FROM line_items
    CROSS JOIN tag_keys
)
SELECT
    {{ period_start }} AS billing_period,
    tag_key,
    coalesce(tag_value, {{ untagged }}) AS tag_value,
    usage_date,
    account_id,
    product_code,
    sum(unblended_cost) AS unblended_cost,
    sum(amortized_cost) AS amortized_cost,
    count(*) AS line_items
FROM tagged
GROUP BY tag_key, coalesce(tag_value, {{ untagged }}), usage_date, account_id, product_code
