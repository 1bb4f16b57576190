"""Split cost allocation data (EKS pods) through the whole pipeline: generated pod rows in a
legacy CSV report and in a CUR 2.0 Parquet export pass every check, cost_by_workload adds up to
the pods' rows and to their instances' own cost, and a pod cost that does not fails the month's
workload check with the previous version kept."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.sample.split import CLUSTERS, WORKLOADS
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


def deliver(root: Path, fmt: str, **options: object) -> GeneratedDelivery:
    arguments = {"month": MONTH, "rows": 4000, "fmt": fmt, "seed": 11} | options
    return generate_month(root, split_cost_allocation=True, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["legacy-csv", "cur2"])
def test_pods_pass_every_check_and_add_up_to_their_instances(
    fmt: str, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("acme", tmp_path / "acme")])
    delivery = deliver(tmp_path / "acme", fmt)
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
    assert workloads["line_items"] == pods["n"] and workloads["clusters"] == len(CLUSTERS)
    assert 0 < workloads["least_idle"] <= workloads["most_idle"] < 1
    assert workloads["vcpu_hours"] > 0 and workloads["memory_gb_hours"] > 0
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
