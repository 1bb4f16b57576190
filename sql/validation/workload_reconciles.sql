-- For one tenant x month: does cost_by_workload add up to the split cost allocation rows of
-- tb_cur_raw (EKS pods and ECS tasks alike), and do those add up to their parent instances' own
-- cost, to the cent? The instances' cost is the amortized cost (what AWS splits) of the
-- instance-hour usage rows (Usage, DiscountedUsage, SavingsPlanCoveredUsage of `BoxUsage`,
-- `SpotUsage`, ...) of each parent resource id in the hours its pods or tasks ran; discounts
-- (EdpDiscount, ...) are not in the split cost but in the net split cost, which not every
-- delivery has. Returns one row: passed, the three totals, and the instance hours whose pods do
-- not add up to them (a month without split cost allocation data passes with zeros).
-- Parameters: database, org, year, month.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
),
pods AS (
    SELECT
        split_line_item_parent_resource_id AS resource_id,
        line_item_usage_start_date AS usage_hour,
        sum(
            CAST(split_line_item_split_cost AS DECIMAL(38, 10))
            + CAST(split_line_item_unused_cost AS DECIMAL(38, 10))
        ) AS cost
    FROM line_items
    WHERE coalesce(split_line_item_parent_resource_id, '') <> ''
    GROUP BY split_line_item_parent_resource_id, line_item_usage_start_date
),
instances AS (
    SELECT
        line_item_resource_id AS resource_id,
        line_item_usage_start_date AS usage_hour,
        sum(amortized_cost) AS cost
    FROM line_items
    WHERE coalesce(split_line_item_parent_resource_id, '') = ''
        AND line_item_line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
        AND regexp_like(line_item_usage_type, '(Box|Spot|Dedicated|Host)Usage')
        AND line_item_resource_id IN (SELECT resource_id FROM pods)
    GROUP BY line_item_resource_id, line_item_usage_start_date
),
hours AS (
    SELECT
        pods.cost AS pods_cost,
        coalesce(instances.cost, 0) AS instance_cost
    FROM pods
    LEFT JOIN instances
        ON pods.resource_id = instances.resource_id AND pods.usage_hour = instances.usage_hour
),
raw AS (
    SELECT
        coalesce(sum(pods_cost), 0) AS pods_cost,
        coalesce(sum(instance_cost), 0) AS instance_cost,
        count_if(abs(pods_cost - instance_cost) >= 0.005) AS unmatched_hours
    FROM hours
),
curated AS (
    SELECT coalesce(sum(total_cost), 0) AS workload_cost
    FROM {{ database }}.cost_by_workload
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
)
SELECT
    abs(curated.workload_cost - raw.pods_cost) < 0.005
        AND abs(raw.pods_cost - raw.instance_cost) < 0.005 AS passed,
    curated.workload_cost AS workload_cost,
    raw.pods_cost AS split_rows_cost,
    raw.instance_cost AS instances_cost,
    raw.unmatched_hours AS unmatched_instance_hours
FROM curated CROSS JOIN raw
