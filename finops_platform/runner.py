"""Materialize tenant x month partitions through Dagster, as `finops run` does, and report.

Each partition is one Dagster run in the instance at DAGSTER_HOME, so every run the CLI makes
shows in the UI exactly like a run launched there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg

from finops_platform.defs.raw.assets import RAW_CUR
from finops_platform.partitions import partition_key


@dataclass(frozen=True)
class CheckVerdict:
    name: str
    passed: bool
    severity: str


@dataclass
class PartitionReport:
    org_id: str
    month: dt.date
    run_id: str
    success: bool
    rows: int | None = None
    unblended_cost: float | None = None
    checks: list[CheckVerdict] = field(default_factory=list)
    error: str | None = None

    @property
    def failed_error_checks(self) -> list[CheckVerdict]:
        return [c for c in self.checks if not c.passed and c.severity == "ERROR"]

    @property
    def ok(self) -> bool:
        return self.success and not self.failed_error_checks


def partition_selection() -> dg.AssetSelection:
    """Every tenant x month asset and the checks that belong to them."""
    return dg.AssetSelection.groups("raw", "catalog")


def run_partition(
    defs: dg.Definitions, instance: dg.DagsterInstance, org_id: str, month: dt.date
) -> PartitionReport:
    result = dg.materialize(
        assets=list(defs.assets or []),
        resources=defs.resources,
        instance=instance,
        partition_key=partition_key(org_id, month),
        selection=partition_selection(),
        raise_on_error=False,
        tags={"finops/launched_by": "finops run"},
        # The CLI prints its own summary; Dagster's step-by-step DEBUG events stay in the UI.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    report = PartitionReport(org_id, month, run_id=result.run_id, success=result.success)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == RAW_CUR:
            report.rows = materialization.metadata["dagster/row_count"].value
            report.unblended_cost = materialization.metadata["unblended_cost"].value
    report.checks = [
        CheckVerdict(e.check_name, e.passed, e.severity.value)
        for e in result.get_asset_check_evaluations()
    ]
    failures = result.get_step_failure_events()
    if failures:
        report.error = "; ".join(_failure_message(event) for event in failures)
    return report


def _failure_message(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    return data.error.message.strip() if data.error else "step failed"
