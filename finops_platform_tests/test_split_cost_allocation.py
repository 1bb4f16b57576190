"""Split cost allocation data (EKS pods, ECS tasks on EC2) through the whole pipeline: generated
pod and task rows in legacy CSV and Parquet reports and in a CUR 2.0 export pass every check,
cost_by_workload adds up to the rows and, exactly, to their instances' own cost, ECS clusters and
services get their own rows (also when the payer has not activated the ECS tags), a month mixing
EKS and ECS keeps each instance on one platform, and a pod cost that does not add up fails the
month's workload check with the previous version kept."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.sample.split import (
    CLUSTERS,
    ECS_CLUSTERS,
    ECS_SERVICES,
    FARGATE_SERVICES,
    WORKLOADS,
    split_platforms,
)
from finops_platform_tests.cli.support import finops, one_error
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import check_tally, load, query
from finops_platform_tests.test_legacy_csv_deliveries import MONTH, RAW, rewrite_csv

WORKLOAD_TOTALS = (
    "SELECT CAST(sum(total_cost) AS VARCHAR) AS total, CAST(sum(split_cost) AS VARCHAR) AS split, "
    "CAST(sum(unused_cost) AS VARCHAR) AS unused, sum(line_items) AS line_items, "
    "count(DISTINCT cluster) AS clusters, min(idle_share) AS least_idle, "
    "max(idle_share) AS most_idle, sum(vcpu_hours) AS vcpu_hours, "
    "sum(memory_gb_hours) AS memory_gb_hours "
    "FROM cost_by_workload WHERE year = 2026 AND month = 9"
)
PODS = (
    "SELECT CAST(sum(CAST(split_line_item_split_cost AS DECIMAL(38, 10)) "
    "+ CAST(split_line_item_unused_cost AS DECIMAL(38, 10))) AS VARCHAR) AS cost, "
    "count(*) AS n, CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) "
    "AS own_cost FROM tb_cur_raw WHERE year = 2026 AND month = 9 "
    "AND split_line_item_parent_resource_id <> ''"
)
INSTANCES = (
    "SELECT CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) AS cost "
    "FROM tb_cur_raw WHERE year = 2026 AND month = 9 AND line_item_line_item_type = 'Usage' "
    "AND line_item_usage_type LIKE '%BoxUsage%' AND line_item_resource_id IN ("
    "SELECT split_line_item_parent_resource_id FROM tb_cur_raw WHERE year = 2026 AND month = 9)"
)


# What AWS writes in an ECS task's rows (operation ECSTask-EC2): checked over the month's rows.
ECS_ROWS = (
    "SELECT count(*) AS n, count(DISTINCT line_item_resource_id) AS tasks, "
    "array_join(array_sort(array_agg(DISTINCT line_item_product_code)), ',') AS products, "
    "count_if(NOT regexp_like(line_item_resource_id, "
    "'^arn:aws:ecs:[a-z0-9-]+:[0-9]{12}:task/[a-z-]+/[0-9a-f]{32}$')) AS bad_arns, "
    "count_if(regexp_extract(line_item_resource_id, 'task/([^/]+)/', 1) "
    "<> element_at(resource_tags, 'aws_ecs_cluster_name')) AS other_cluster, "
    "count_if(NOT regexp_like(line_item_usage_type, '^([A-Z0-9]+-)?ECS-EC2-(vCPU|GB)-Hours$')) "
    "AS bad_usage_types, count_if(split_line_item_parent_resource_id NOT LIKE 'i-%') AS orphans, "
    "count_if(element_at(resource_tags, 'aws_eks_cluster_name') IS NOT NULL) AS eks_tagged "
    "FROM tb_cur_raw WHERE year = 2026 AND month = 9 AND line_item_operation = 'ECSTask-EC2'"
)
WORKLOAD_NAMES = (
    "SELECT DISTINCT cluster, namespace, workload FROM cost_by_workload "
    "WHERE year = 2026 AND month = 9 ORDER BY 1, 2, 3"
)
# Parent instances whose hours carry rows of both platforms (none: a node or a container
# instance, never both).
SHARED_PARENTS = (
    "SELECT count(*) AS n FROM (SELECT split_line_item_parent_resource_id FROM tb_cur_raw "
    "WHERE year = 2026 AND month = 9 AND split_line_item_parent_resource_id <> '' "
    "GROUP BY 1 HAVING count(DISTINCT line_item_operation) > 1)"
)


def deliver(root: Path, fmt: str, split: bool | str = True, **options: object) -> GeneratedDelivery:
    arguments = {"month": MONTH, "rows": 4000, "fmt": fmt, "seed": 11} | options
    return generate_month(root, split_cost_allocation=split, **arguments)  # type: ignore[arg-type]


def assert_reconciled(delivery: GeneratedDelivery) -> dict:
    """Every check passes, raw keeps the delivery, the split rows cost nothing themselves, and
    cost_by_workload equals the split rows and their instances' own cost exactly; returns the
    workload totals."""
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r) for r in loaded.tenant_reports()] == [(17, 17, [])]
    (raw,) = query("acme", RAW)
    assert (raw["n"], Decimal(raw["cost"])) == (delivery.rows, delivery.unblended_total)
    (pods,) = query("acme", PODS)
    (instances,) = query("acme", INSTANCES)
    (workloads,) = query("acme", WORKLOAD_TOTALS)
    assert pods["n"] > 1000 and Decimal(pods["own_cost"]) == 0  # no double counting
    assert Decimal(workloads["total"]) == Decimal(pods["cost"]) == Decimal(instances["cost"]) > 0
    assert Decimal(workloads["split"]) + Decimal(workloads["unused"]) == Decimal(workloads["total"])
    assert workloads["line_items"] == pods["n"]
    assert 0 < workloads["least_idle"] <= workloads["most_idle"] < 1
    assert workloads["vcpu_hours"] > 0 and workloads["memory_gb_hours"] > 0
    return workloads


@pytest.mark.parametrize("fmt", ["legacy-csv", "cur2"])
def test_pods_pass_every_check_and_add_up_to_their_instances(
    fmt: str, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("acme", tmp_path / "acme")])
    workloads = assert_reconciled(deliver(tmp_path / "acme", fmt))
    assert workloads["clusters"] == len(CLUSTERS)
    names = query(
        "acme",
        "SELECT DISTINCT namespace, workload FROM cost_by_workload "
        "WHERE year = 2026 AND month = 9 ORDER BY 1, 2",
    )
    assert {(r["namespace"], r["workload"]) for r in names} <= set(WORKLOADS)


def test_a_pod_cost_its_instance_does_not_have_fails_the_workload_check(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("acme", tmp_path / "acme")])
    deliver(tmp_path / "acme", "legacy-csv")
    assert load(months=[MONTH]).ok
    before = query("acme", WORKLOAD_TOTALS)
    restated = deliver(tmp_path / "acme", "legacy-csv", seed=12)
    cost = "splitLineItem/SplitCost"

    def inflate(header: list[str], rows: list[list[str]]) -> tuple:
        at = header.index(cost)
        pod = next(row for row in rows if row[at])
        pod[at] = str(float(pod[at]) + 1)
        return header, rows

    rewrite_csv(restated.data_files[0], inflate)
    loaded = load(months=[MONTH])
    assert not loaded.ok
    (report,) = loaded.tenant_reports()
    assert [c.name for c in report.failed_error_checks] == ["workloads_add_up"]
    assert query("acme", WORKLOAD_TOTALS) == before  # the previous version is kept


@pytest.mark.parametrize("fmt", ["legacy-csv", "legacy", "cur2"])
def test_ecs_tasks_pass_every_check_and_add_up_to_their_instances(
    fmt: str, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("acme", tmp_path / "acme")])
    workloads = assert_reconciled(deliver(tmp_path / "acme", fmt, split="ecs"))
    assert workloads["clusters"] == len(ECS_CLUSTERS)
    (tasks,) = query("acme", ECS_ROWS)
    assert tasks["n"] == workloads["line_items"] and tasks["tasks"] > 10
    assert tasks["products"] == "AmazonECS"
    assert (tasks["bad_arns"], tasks["other_cluster"], tasks["bad_usage_types"]) == (0, 0, 0)
    assert (tasks["orphans"], tasks["eks_tagged"]) == (0, 0)
    names = {(r["cluster"], r["namespace"], r["workload"]) for r in query("acme", WORKLOAD_NAMES)}
    services = {s or "(unknown)" for s in ECS_SERVICES}  # a standalone task has no service
    assert {cluster for cluster, _, _ in names} == set(ECS_CLUSTERS)
    assert {namespace for _, namespace, _ in names} == {""}  # ECS has no namespace
    assert {workload for _, _, workload in names} == services


@pytest.mark.parametrize("fmt", ["legacy", "cur2-csv"])
def test_a_month_mixing_eks_and_ecs_gives_each_platform_its_rows(
    fmt: str, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("acme", tmp_path / "acme")])
    workloads = assert_reconciled(deliver(tmp_path / "acme", fmt, split="eks,ecs"))
    names = query("acme", WORKLOAD_NAMES)
    eks = {(r["cluster"], r["namespace"], r["workload"]) for r in names if r["cluster"] in CLUSTERS}
    ecs = {(r["cluster"], r["workload"]) for r in names if r["cluster"] in ECS_CLUSTERS}
    assert eks and {(namespace, workload) for _, namespace, workload in eks} <= set(WORKLOADS)
    assert ecs and {workload for _, workload in ecs} <= {s or "(unknown)" for s in ECS_SERVICES}
    assert len(names) == len(eks) + len(ecs)  # every row is an EKS or an ECS workload
    assert {r["namespace"] for r in names if r["cluster"] in ECS_CLUSTERS} == {""}
    clusters = {cluster for cluster, *_ in (*eks, *ecs)}
    assert workloads["clusters"] == len(clusters) > 2
    (tasks,) = query("acme", ECS_ROWS)
    assert tasks["eks_tagged"] == 0 and tasks["other_cluster"] == 0
    assert query("acme", SHARED_PARENTS) == [{"n": 0}]


def test_ecs_clusters_come_from_the_task_arn_when_the_ecs_tags_are_not_activated(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    """A payer that did not activate the AWS-generated `aws:ecs:*` cost allocation tags gets
    empty tag columns; the cluster is in the task's ARN, the service is not."""
    write_config([tenant_entry("acme", tmp_path / "acme")])
    delivery = deliver(tmp_path / "acme", "legacy-csv", split="ecs")
    tags = ("resourceTags/aws:ecs:clusterName", "resourceTags/aws:ecs:serviceName")

    def untag(header: list[str], rows: list[list[str]]) -> tuple:
        for at in (header.index(tag) for tag in tags):
            for row in rows:
                row[at] = ""
        return header, rows

    for part in delivery.data_files:
        rewrite_csv(part, untag)
    assert_reconciled(delivery)
    names = {(r["cluster"], r["namespace"], r["workload"]) for r in query("acme", WORKLOAD_NAMES)}
    assert names == {(cluster, "", "(unknown)") for cluster in ECS_CLUSTERS}


def test_fargate_tasks_are_costed_by_their_ecs_tags_and_not_split(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    """Fargate tasks bill themselves: their cost is in cost_by_tag by `aws:ecs:serviceName`,
    and cost_by_workload, the split of EC2 instances, has none of it."""
    root = tmp_path / "acme"
    write_config([tenant_entry("acme", root, cost_allocation_tags=["aws:ecs:serviceName"])])
    assert_reconciled(deliver(root, "cur2", split="ecs"))
    (fargate,) = query(
        "acme",
        "SELECT CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) AS cost, "
        "count_if(coalesce(split_line_item_parent_resource_id, '') <> '') AS split "
        "FROM tb_cur_raw WHERE year = 2026 AND month = 9 AND line_item_operation = 'FargateTask'",
    )
    by_service = query(
        "acme",
        "SELECT tag_value, CAST(sum(unblended_cost) AS VARCHAR) AS cost FROM cost_by_tag "
        "WHERE year = 2026 AND month = 9 AND tag_key = 'aws:ecs:serviceName' GROUP BY 1",
    )
    costs = {r["tag_value"]: Decimal(r["cost"]) for r in by_service}
    assert set(FARGATE_SERVICES) <= set(costs) and fargate["split"] == 0
    assert sum(costs[s] for s in FARGATE_SERVICES) == Decimal(fargate["cost"]) > 0
    assert all(costs[s] == 0 for s in ECS_SERVICES if s)  # the split rows cost nothing
    clusters = {r["cluster"] for r in query("acme", WORKLOAD_NAMES)}
    assert clusters == set(ECS_CLUSTERS)  # no Fargate cluster


def test_ecs_rows_are_deterministic_and_spelled_as_aws_spells_them(tmp_path: Path) -> None:
    def read(delivery: GeneratedDelivery) -> pa.Table:
        rows = pa.concat_tables(pq.read_table(f) for f in delivery.data_files)
        return rows.sort_by("identity_line_item_id")  # pod rows follow each chunk's own rows

    def month(
        folder: str, split: object, fmt: str = "cur2", **options: object
    ) -> GeneratedDelivery:
        return deliver(tmp_path / folder, fmt, split=split, rows=1000, **options)  # type: ignore[arg-type]

    first, again = month("a", "ecs"), month("b", ["ecs"], chunk_rows=300)
    assert read(first).equals(read(again)) and first.assembly_id == again.assembly_id
    eks, both = month("c", "eks"), month("d", "ecs,eks")
    assert eks.assembly_id == month("e", True).assembly_id  # the flag's ids stay
    assert len({first.assembly_id, eks.assembly_id, both.assembly_id}) == 3
    rows = read(first)
    tasks = rows.filter(pc.equal(rows["line_item_operation"], "ECSTask-EC2"))
    assert dict(tasks["product"][0].as_py())["product_name"] == "Amazon Elastic Container Service"
    assert set(tasks["product_servicecode"].to_pylist()) == {"AmazonECS"}
    with gzip.open(month("f", "eks,ecs", "legacy-csv").data_files[0], "rt") as text:
        header = text.readline()
    for column in ("aws:ecs:clusterName", "aws:ecs:serviceName", "aws:eks:cluster-name"):
        assert f"resourceTags/{column}" in header


def test_split_platforms_are_named_or_refused() -> None:
    assert split_platforms(True) == split_platforms("eks") == ("eks",)
    assert split_platforms("ecs, EKS") == split_platforms(["eks", "ecs"]) == ("eks", "ecs")
    assert split_platforms(False) == split_platforms(None) == ()
    with pytest.raises(ValueError, match="'fargate'"):
        split_platforms("ecs,fargate")


def test_demo_data_names_a_platform_it_cannot_write(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("acme", tmp_path / "source")])
    one_error(finops("demo-data", "--split-cost-allocation", "fargate"), "'fargate'", "eks, ecs")
    assert not (tmp_path / "source").exists()
