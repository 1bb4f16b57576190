-- Kubernetes and ECS cost of one tenant x month, from split cost allocation data. Grain: one row
-- per usage_date, account_id, cluster, namespace and workload. A payer that opted in gets two
-- usage rows per pod (or ECS task) and hour, vCPU and memory, whose split cost is the pod's share
-- of its parent EC2 instance's amortized cost and whose unused cost is its share of the
-- instance's idle capacity; the rows themselves cost nothing, so the bill is not counted twice.
-- Only pods and tasks on EC2 instances (a parent resource id) are here. Fargate tasks are not
-- split: AWS bills each task on its own line items (operation `FargateTask`, no parent, no idle
-- share), which cost_daily and, by the `aws:ecs:*` tags, cost_by_tag already count; they have
-- no instance to reconcile to. EKS tags give cluster, namespace and workload
-- (`aws:eks:cluster-name`, `aws:eks:namespace`, `aws:eks:deployment` or
-- `aws:eks:workload-name`). An ECS task (operation `ECSTask-EC2`) has the cluster and service
-- as ECS managed tags (`aws:ecs:clusterName`, `aws:ecs:serviceName`) and namespace '' (ECS has
-- none); when the payer has not activated those tags the cluster is read from the task's ARN
-- (`arn:aws:ecs:<region>:<account>:task/<cluster>/<id>`), and a task without a service (RunTask)
-- or an untagged one is workload '(unknown)'.
-- A month without split cost allocation data has no rows.
-- Parameters: database, org, year, month, period_start.
WITH line_items AS (
    {{ include fragments/line_item_costs.sql }}
    WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
),
pods AS (
    SELECT
        usage_date,
        account_id,
        coalesce(
            nullif(element_at(resource_tags, 'aws_eks_cluster_name'), ''),
            nullif(element_at(resource_tags, 'aws_ecs_cluster_name'), ''),
            nullif(
                regexp_extract(
                    line_item_resource_id, '^arn:aws[a-z-]*:ecs:[^:]*:[0-9]*:task/([^/]+)/', 1
                ),
                ''
            ),
            '(unknown)'
        ) AS cluster,
        coalesce(element_at(resource_tags, 'aws_eks_namespace'), '') AS namespace,
        coalesce(
            nullif(element_at(resource_tags, 'aws_eks_deployment'), ''),
            nullif(element_at(resource_tags, 'aws_eks_workload_name'), ''),
            nullif(element_at(resource_tags, 'aws_ecs_service_name'), ''),
            '(unknown)'
        ) AS workload,
        line_item_resource_id AS pod,
        line_item_usage_type,
        split_line_item_split_usage AS split_usage,
        CAST(split_line_item_split_cost AS DECIMAL(38, 10)) AS split_cost,
        CAST(split_line_item_unused_cost AS DECIMAL(38, 10)) AS unused_cost
    FROM line_items
    WHERE coalesce(split_line_item_parent_resource_id, '') <> ''
)
SELECT
    {{ period_start }} AS billing_period,
    usage_date,
    account_id,
    cluster,
    namespace,
    workload,
    sum(split_cost) AS split_cost,
    sum(unused_cost) AS unused_cost,
    sum(split_cost) + sum(unused_cost) AS total_cost,
    CAST(sum(unused_cost) AS DOUBLE)
        / nullif(CAST(sum(split_cost) + sum(unused_cost) AS DOUBLE), 0) AS idle_share,
    sum(CASE WHEN line_item_usage_type LIKE '%vCPU-Hours' THEN split_usage END) AS vcpu_hours,
    sum(CASE WHEN line_item_usage_type LIKE '%GB-Hours' THEN split_usage END) AS memory_gb_hours,
    count(DISTINCT pod) AS pods,
    count(*) AS line_items
FROM pods
GROUP BY usage_date, account_id, cluster, namespace, workload
