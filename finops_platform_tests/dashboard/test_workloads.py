"""Workloads page: the EKS pods' and ECS tasks' cost per cluster, namespace and workload equals
cost_by_workload, which adds up to the instances' own cost (its check); an ECS cluster's services
show without a namespace; a tenant without split cost allocation data is told so."""

from __future__ import annotations

from decimal import Decimal

from finops_platform.sample.split import ECS_CLUSTERS, ECS_SERVICES
from finops_platform_tests.dashboard.conftest import SPLIT_TENANTS, Generated
from finops_platform_tests.dashboard.shown import (
    all_text,
    cents,
    metric,
    money,
    no_exceptions,
    table,
)

WORKLOADS_SQL = """
SELECT cluster, namespace, workload, sum(total_cost) AS total, sum(split_cost) AS split,
    sum(unused_cost) AS unused, sum(line_items) AS line_items
FROM cost_by_workload WHERE year = 2026 AND month = 9 GROUP BY 1, 2, 3
"""


def test_tenant_workloads_equal_cost_by_workload(app, generated: Generated) -> None:
    (org,) = SPLIT_TENANTS
    at = no_exceptions(app(org).run().switch_page("views/workloads.py").run())
    expected = {
        (r["cluster"], r["namespace"], r["workload"]): r
        for r in generated.query(org, WORKLOADS_SQL)
    }
    assert len(expected) > 1
    shown = table(at, "cluster", "namespace", "workload")
    assert len(shown) == len(expected)
    for row in shown.itertuples():
        figures = expected[(row.cluster, row.namespace, row.workload)]
        assert (row.total_cost, row.split_cost, row.unused_cost) == (
            cents(figures["total"]),
            cents(figures["split"]),
            cents(figures["unused"]),
        )
        assert row.line_items == figures["line_items"]
        assert 0 < row.idle_share < 1
    assert list(shown.total_cost) == sorted(shown.total_cost, reverse=True)
    total = sum((r["total"] for r in expected.values()), Decimal(0))
    idle = sum((r["unused"] for r in expected.values()), Decimal(0))
    assert metric(at, "Workload cost")[0] == money(total)
    assert metric(at, "Idle")[0] == money(idle)


def test_an_ecs_cluster_shows_its_services_without_a_namespace(app, generated: Generated) -> None:
    (org,) = SPLIT_TENANTS
    at = no_exceptions(app(org).run().switch_page("views/workloads.py").run())
    shown = table(at, "cluster", "namespace", "workload")
    ecs = shown[shown.cluster.isin(ECS_CLUSTERS)]
    assert set(ecs.cluster) == set(ECS_CLUSTERS) and set(ecs.namespace) == {""}
    assert set(ecs.workload) == {service or "(unknown)" for service in ECS_SERVICES}
    assert (ecs.total_cost > 0).all() and len(ecs) < len(shown)  # EKS workloads beside them


def test_a_tenant_without_split_data_is_told_so(app) -> None:
    at = no_exceptions(app("tenant_alpha").run().switch_page("views/workloads.py").run())
    assert "has not turned on split cost allocation data" in all_text(at)
    assert not at.dataframe


def test_all_tenants_workloads_name_their_tenant(app, generated: Generated) -> None:
    at = no_exceptions(app().run().switch_page("views/workloads.py").run())
    shown = table(at, "org", "cluster", "namespace", "workload")
    assert set(shown.org) == set(SPLIT_TENANTS)
    (org,) = SPLIT_TENANTS
    assert len(shown) == len(generated.query(org, WORKLOADS_SQL))
