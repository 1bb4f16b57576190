"""Load tenant x month partitions through Dagster the way `finops run` does, without the CLI.

A test whose subject is not the CLI calls these units and asserts on what they return (the
runner's `PartitionReport`s, a run's materializations and check evaluations, the catalog through
the query engine), so it does not depend on what `finops run` or `finops query` print.

Runs go to the instance at DAGSTER_HOME (the `finops_home` fixture sets it), so a test that loads
a month twice sees the first load's history, as raw_cur's restatement check and tb_cur_raw's
hand-off from raw_cur need.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import TENANT_MONTH_GROUPS
from finops_platform.defs.common.partitions import partition_key
from finops_platform.lib.cur.delivery import delivered_months
from finops_platform.resources import build_resources
from finops_platform.runner import (
    CROSS_ORG_LABEL,
    PartitionReport,
    consecutive_runs,
    run_cross_org,
    run_tenant_months,
)
from finops_platform.settings import Settings, load_settings

__all__ = [
    "Load",
    "check_tally",
    "failure_descriptions",
    "home_instance",
    "load",
    "materialize_asset",
    "materialize_partition",
    "query",
]


def home_instance() -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME, configured as `finops run` leaves it (no telemetry)."""
    config = Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return dg.DagsterInstance.get()


@contextmanager
def _instance(instance: dg.DagsterInstance | None) -> Iterator[dg.DagsterInstance]:
    """The given instance, or the one at DAGSTER_HOME for the length of a call."""
    if instance is not None:
        yield instance
        return
    with home_instance() as home:
        yield home


def materialize_partition(
    org_id: str,
    month: dt.date,
    *,
    settings: Settings | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """Every asset and check of one tenant x month (the raw, catalog and curated groups), in one
    Dagster run with the environment's resources; a failure is in the result, not raised."""
    defs = build_definitions(settings or load_settings())
    with _instance(instance) as dagster:
        return dg.materialize(
            assets=list(defs.assets or []),
            resources=defs.resources,
            instance=dagster,
            partition_key=partition_key(org_id, month),
            selection=dg.AssetSelection.groups(*TENANT_MONTH_GROUPS),
            raise_on_error=False,
        )


def materialize_asset(
    key: dg.AssetKey,
    org_id: str,
    month: dt.date,
    *,
    settings: Settings | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """One asset's body and its own checks for one tenant x month, with the environment's
    resources and nothing upstream or downstream of it."""
    defs = build_definitions(settings or load_settings())
    (asset,) = [
        a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and key in a.keys
    ]
    with _instance(instance) as dagster:
        return dg.materialize(
            [asset],
            resources=defs.resources,
            instance=dagster,
            partition_key=partition_key(org_id, month),
            raise_on_error=False,
        )


@dataclass
class Load:
    """The reports of a load: one per tenant x month, then one per cross-org month."""

    reports: list[PartitionReport]

    @property
    def ok(self) -> bool:
        """Every run succeeded and no ERROR check failed: what `finops run` exits 0 on."""
        return all(report.ok for report in self.reports)

    def report(self, org_id: str, month: dt.date) -> PartitionReport:
        (found,) = [r for r in self.reports if (r.org_id, r.month) == (org_id, month)]
        return found

    def cross_org(self, month: dt.date) -> PartitionReport:
        return self.report(CROSS_ORG_LABEL, month)

    def tenant_reports(self) -> list[PartitionReport]:
        return [r for r in self.reports if r.org_id != CROSS_ORG_LABEL]


def load(
    tenants: Sequence[str] = (),
    months: Sequence[dt.date] = (),
    *,
    settings: Settings | None = None,
) -> Load:
    """What `finops run` runs, called directly: each tenant's months (default: every active
    tenant; every month delivered in its source path) as one run per range of consecutive
    months, then the cross-org totals of every month where a tenant partition loaded."""
    settings = settings or load_settings()
    defs = build_definitions(settings)
    selected = (
        [settings.tenants.get(org) for org in tenants] if tenants else settings.tenants.active()
    )
    store = defs.resources["store"]
    reports: list[PartitionReport] = []
    with home_instance() as instance:
        for tenant in selected:
            for run in consecutive_runs(list(months) or delivered_months(store, tenant)):
                reports += run_tenant_months(defs, instance, tenant.org_id, run)
        for month in sorted({r.month for r in reports if r.success}):
            reports.append(run_cross_org(defs, instance, month))
    return Load(reports)


def check_tally(report: PartitionReport) -> tuple[int, int, list[str]]:
    """(checks passed, checks run, `<check> <severity>` of each failed check, in run order)."""
    failed = [f"{c.name} {c.severity}" for c in report.checks if not c.passed]
    return len(report.checks) - len(failed), len(report.checks), failed


def failure_descriptions(result: dg.ExecuteInProcessResult) -> list[str]:
    """The description of each failed step's `dg.Failure`."""
    return [
        event.step_failure_data.user_failure_data.description
        for event in result.get_step_failure_events()
        if event.step_failure_data.user_failure_data is not None
    ]


def query(org_id: str | None, sql: str, *, settings: Settings | None = None) -> list[dict]:
    """Rows of Athena-dialect SQL in a tenant's catalog database (the central database for
    `None`), through the environment's query engine."""
    settings = settings or load_settings()
    database = (
        settings.tenants.get(org_id).database if org_id else settings.environment.central_database
    )
    with build_resources(settings)["engine"].session(database) as session:
        return session.query(sql).to_pylist()
