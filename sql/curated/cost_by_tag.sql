-- Showback / chargeback of one tenant x month by its cost allocation tag keys. Grain: one row per
-- tag_key, tag_value, usage_date, account_id and product_code. Every line item counts once per
-- configured key, under its value or under the untagged value, so each key's rows add up to the
-- tenant's total. A key `cost_center` is the user tag `user:cost_center` (map key
-- `user_cost_center`); `aws:createdBy` names an AWS tag (map key `aws_created_by`). Keys match
-- ignoring case, spaces and punctuation.
-- Parameters: database, org, year, month, period_start, tag_keys and tag_match_keys (arrays),
-- tag_key_separators (a regular expression), untagged.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
),
-- Line items summed per day, account, service and tag set first: a month has far fewer of
-- these than line items, so each tag key is looked up once per group, not once per line item.
tag_sets AS (
    SELECT
        usage_date,
        account_id,
        product_code,
        resource_tags,
        sum(unblended_cost) AS unblended_cost,
        sum(amortized_cost) AS amortized_cost,
        count(*) AS line_items
    FROM line_items
    GROUP BY usage_date, account_id, product_code, resource_tags
),
-- Each configured key with the form map keys are compared in: lower case without separators,
-- so the console's spelling (`aws:createdBy`, `CostCenter`) meets the CUR's (`aws_created_by`,
-- `user_cost_center`). Computed in Python; `tag_match_keys` is in the order of `tag_keys`.
tag_keys AS (
    SELECT tag_key, element_at({{ tag_match_keys }}, position) AS match_key
    FROM UNNEST({{ tag_keys }}) WITH ORDINALITY AS configured (tag_key, position)
),
tagged AS (
    SELECT
        tag_keys.tag_key,
        nullif(
            element_at(
                tag_sets.resource_tags,
                element_at(
                    filter(
                        map_keys(tag_sets.resource_tags),
                        k -> regexp_replace(lower(k), {{ tag_key_separators }}, '')
                            = tag_keys.match_key
                    ),
                    1
                )
            ),
            ''
        ) AS tag_value,
        tag_sets.usage_date,
        tag_sets.account_id,
        tag_sets.product_code,
        tag_sets.unblended_cost,
        tag_sets.amortized_cost,
        tag_sets.line_items
    FROM tag_sets
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
    CAST(sum(line_items) AS BIGINT) AS line_items
FROM tagged
GROUP BY tag_key, coalesce(tag_value, {{ untagged }}), usage_date, account_id, product_code
