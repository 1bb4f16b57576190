-- Kubernetes and ECS workloads of one tenant x month, from cost_by_workload. Grain: one row per
-- cluster, namespace and workload. The pods' split cost, unused (idle) cost and both, the idle
-- share of that total, vCPU and memory usage, and split rows; most expensive first.
-- Parameters: database, org, year, month.
SELECT
    cluster,
    namespace,
    workload,
    sum(total_cost) AS total_cost,
    sum(split_cost) AS split_cost,
    sum(unused_cost) AS unused_cost,
    CAST(sum(unused_cost) AS DOUBLE) / nullif(CAST(sum(total_cost) AS DOUBLE), 0) AS idle_share,
    sum(vcpu_hours) AS vcpu_hours,
    sum(memory_gb_hours) AS memory_gb_hours,
    sum(line_items) AS line_items
FROM {{ database }}.cost_by_workload
WHERE org = {{ org }} AND year = {{ year }} AND month = {{ month }}
GROUP BY cluster, namespace, workload
ORDER BY total_cost DESC, cluster, namespace, workload
