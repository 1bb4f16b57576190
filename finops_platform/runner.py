"""Materialize partitions through Dagster, as `finops run` does, and report what happened.

Each tenant x month partition is one Dagster run of the raw, catalog and curated assets with
their checks; each month then gets one run of the cross-org asset. Runs go to the instance at
DAGSTER_HOME, so they show in the UI exactly like runs launched there. The per-tenant freshness
SLA checks are not part of these runs: they judge today's data, on their own schedule.
"""

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg

from finops_platform.defs.common.keys import (
    CROSS_ORG,
    CROSS_ORG_GROUP,
    RAW_CUR,
    TENANT_MONTH_GROUPS,
)
from finops_platform.defs.common.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_key
from finops_platform.months import next_month

CROSS_ORG_LABEL = "(all tenants)"


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


def _materialize(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    groups: tuple[str, ...],
    partition: str | None = None,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets=list(defs.assets or []),
        resources=defs.resources,
        instance=instance,
        partition_key=partition,
        selection=dg.AssetSelection.groups(*groups),
        raise_on_error=False,
        tags={"finops/launched_by": "finops run", **(tags or {})},
        # The CLI prints its own summary; Dagster's step-by-step DEBUG events stay in the UI.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )


def _report(
    result: dg.ExecuteInProcessResult,
    org_id: str,
    month: dt.date,
    headline: dg.AssetKey,
    partition: str,
) -> PartitionReport:
    """What the run did for one partition (a run over a range did it for several)."""
    report = PartitionReport(org_id, month, run_id=result.run_id, success=result.success)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == headline and materialization.partition == partition:
            metadata = materialization.metadata
            report.rows = metadata["dagster/row_count"].value
            if "unblended_cost" in metadata:
                report.unblended_cost = metadata["unblended_cost"].value
    report.checks = [
        CheckVerdict(e.check_name, e.passed, e.severity.value)
        for e in result.get_asset_check_evaluations()
        if e.partition == partition
    ]
    failures = result.get_step_failure_events()
    if failures:
        report.error = "; ".join(failure_message(event) for event in failures)
    return report


def run_partition(
    defs: dg.Definitions, instance: dg.DagsterInstance, org_id: str, month: dt.date
) -> PartitionReport:
    """Every asset and check of one tenant x month."""
    key = partition_key(org_id, month)
    result = _materialize(defs, instance, TENANT_MONTH_GROUPS, partition=key)
    return _report(result, org_id, month, RAW_CUR, key)


def run_tenant_months(
    defs: dg.Definitions, instance: dg.DagsterInstance, org_id: str, months: list[dt.date]
) -> list[PartitionReport]:
    """Every asset and check of consecutive months of one tenant, in a single run.

    One run over the range is a single-run backfill: Dagster's cost per run is paid once, not
    per month. A range whose run fails is run again month by month, so one bad delivery does
    not hold back the other months and each failure is reported with its own month.
    """
    if consecutive_runs(months) != [months]:
        raise ValueError(f"not consecutive months in order: {months}")
    if len(months) == 1:
        return [run_partition(defs, instance, org_id, months[0])]
    keys = [partition_key(org_id, month) for month in months]
    result = _materialize(
        defs,
        instance,
        TENANT_MONTH_GROUPS,
        tags={RANGE_START_TAG: str(keys[0]), RANGE_END_TAG: str(keys[-1])},
    )
    if not result.success:
        return [run_partition(defs, instance, org_id, month) for month in months]
    return [
        _report(result, org_id, month, RAW_CUR, key)
        for month, key in zip(months, keys, strict=True)
    ]


def consecutive_runs(months: list[dt.date]) -> list[list[dt.date]]:
    """Sorted months split where a month is missing: each part is one partition range."""
    runs: list[list[dt.date]] = []
    for month in sorted(set(months)):
        if runs and next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return runs


def run_cross_org(
    defs: dg.Definitions, instance: dg.DagsterInstance, month: dt.date
) -> PartitionReport:
    """The cross-org totals of one month, from the tenants' curated tables."""
    key = month.isoformat()
    result = _materialize(defs, instance, (CROSS_ORG_GROUP,), partition=key)
    return _report(result, CROSS_ORG_LABEL, month, CROSS_ORG, key)


def failure_message(event: dg.DagsterEvent) -> str:
    """What went wrong in a step: a Failure's description, else the innermost error."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return f"{event.step_key}: {error.message.strip()}" if error else f"{event.step_key} failed"
