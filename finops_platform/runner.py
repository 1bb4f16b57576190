"""Materialize partitions through Dagster, as `finops run` does, and report what happened.

Each tenant x month partition is one Dagster run of the raw, catalog and curated assets with
their checks; each month then gets one run of the cross-org asset. Runs go to the instance at
DAGSTER_HOME, so they show in the UI exactly like runs launched there. The per-tenant freshness
SLA checks are not part of these runs: they judge today's data, on their own schedule.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from finops_platform.defs.alerts.messages import failure_message
from finops_platform.defs.common.keys import CROSS_ORG, CROSS_ORG_JOB, RAW_CUR, TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_key
from finops_platform.defs.common.process_runs import fail_dead_runs, process_lock
from finops_platform.lib.locks import file_lock
from finops_platform.months import next_month
from finops_platform.settings import Settings

CROSS_ORG_LABEL = "(all tenants)"
# Under DAGSTER_HOME: the lock each `finops run` holds for its life (defs/common/process_runs).
RUN_LOCKS = "finops-run-locks"

DAGSTER_YAML = """\
# Written by `finops run` for the embedded default: local SQLite storage, no telemetry.
telemetry:
  enabled: false
"""

# Told the tenant (or CROSS_ORG_LABEL), the months and the step of each step that starts.
OnStep = Callable[[str, list[dt.date], str], None]
# Told the tenant and months of each Dagster run before it starts.
OnRun = Callable[[str, list[dt.date]], None]

# What Dagster's errors are called when a run stopped because of Ctrl-C (SIGINT).
_INTERRUPTIONS = {"KeyboardInterrupt", "DagsterExecutionInterruptedError"}
# The job name `dg.materialize` gives its runs, so runs of `finops run` read as they always did.
RUN_JOB = "__ephemeral_asset_job__"
# The attribute under which Dagster hands its event to a run logger's records.
EVENT_ATTR = "dagster_event"


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the Dagster run of `org_id`'s `months`; nothing after it was started."""

    def __init__(self, org_id: str, months: list[dt.date], run_id: str) -> None:
        super().__init__(org_id, months, run_id)
        self.org_id = org_id
        self.months = months
        self.run_id = run_id


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


class _StepStarts(logging.Handler):
    """Passes each step start of a run on; prints nothing."""

    def __init__(self, on_step: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.on_step = on_step

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, EVENT_ATTR, None)
        if event is not None and event.event_type == dg.DagsterEventType.STEP_START:
            self.on_step(event.step_key)


def _step_logger(on_step: Callable[[str], None]) -> dg.LoggerDefinition:
    """The run's only logger, in place of Dagster's console logger: errors and their stack
    traces stay in the instance (the UI shows them) and `finops run` prints its own summary."""

    def build(_context: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("finops.run", logging.DEBUG)
        log.addHandler(_StepStarts(on_step))
        return log

    return dg.LoggerDefinition(build, description="step starts to `finops run`'s progress")


def _materialize(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job_name: str,
    partition: str | None = None,
    tags: dict[str, str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dg.ExecuteInProcessResult:
    """A run of the job `job_name` (what its sensors and schedules launch: the same assets and
    checks), with the step logger instead of the console logger."""
    selection = next(job.selection for job in defs.jobs or [] if job.name == job_name)
    run_defs = dg.Definitions(
        jobs=[dg.define_asset_job(RUN_JOB, selection=selection)],
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        resources=defs.resources,
        loggers={"console": _step_logger(on_step or (lambda _step: None))},
    )
    return run_defs.resolve_job_def(RUN_JOB).execute_in_process(
        instance=instance,
        partition_key=partition,
        raise_on_error=False,
        tags={"finops/launched_by": "finops run", **(tags or {})},
        run_config={"loggers": {"console": {}}},
    )


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether Ctrl-C stopped the run (Dagster records it as a failed run, not an error)."""
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.RUN_FAILURE:
            data = event.event_specific_data
            reason = getattr(data, "failure_reason", None)
            if reason is not None and reason.value == "UNEXPECTED_TERMINATION":
                return True
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None:
                if error.cls_name in _INTERRUPTIONS:
                    return True
                error = error.cause
    return False


def _checked(
    result: dg.ExecuteInProcessResult, org_id: str, months: list[dt.date]
) -> dg.ExecuteInProcessResult:
    if _interrupted(result):
        raise RunInterrupted(org_id, months, result.run_id)
    return result


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
    elif not result.success:
        report.error = _run_failure(result)
    return report


def _run_failure(result: dg.ExecuteInProcessResult) -> str:
    """Why a run failed outside any step (a resource that did not start, say), in one line."""
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.RUN_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None:
                return error.message.strip().splitlines()[0]
            return event.message or "the run failed"
    return "the run failed"


def run_partition(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    org_id: str,
    month: dt.date,
    on_step: OnStep | None = None,
    tags: dict[str, str] | None = None,
) -> PartitionReport:
    """Every asset and check of one tenant x month."""
    key = partition_key(org_id, month)
    result = _materialize(
        defs,
        instance,
        TENANT_MONTH_JOB,
        partition=key,
        tags=tags,
        on_step=_told(on_step, org_id, [month]),
    )
    return _report(_checked(result, org_id, [month]), org_id, month, RAW_CUR, key)


def _told(on_step: OnStep | None, org_id: str, months: list[dt.date]) -> Callable[[str], None]:
    return lambda step: on_step(org_id, months, step) if on_step else None


def run_tenant_months(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    org_id: str,
    months: list[dt.date],
    on_step: OnStep | None = None,
    tags: dict[str, str] | None = None,
) -> list[PartitionReport]:
    """Every asset and check of consecutive months of one tenant, in a single run.

    One run over the range is a single-run backfill: Dagster's cost per run is paid once, not
    per month. A range whose run fails is run again month by month, so one bad delivery does
    not hold back the other months and each failure is reported with its own month.
    """
    if consecutive_runs(months) != [months]:
        raise ValueError(f"not consecutive months in order: {months}")
    if len(months) == 1:
        return [run_partition(defs, instance, org_id, months[0], on_step, tags)]
    keys = [partition_key(org_id, month) for month in months]
    result = _materialize(
        defs,
        instance,
        TENANT_MONTH_JOB,
        tags={**(tags or {}), RANGE_START_TAG: str(keys[0]), RANGE_END_TAG: str(keys[-1])},
        on_step=_told(on_step, org_id, months),
    )
    if not _checked(result, org_id, months).success:
        return [run_partition(defs, instance, org_id, month, on_step, tags) for month in months]
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
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    month: dt.date,
    on_step: OnStep | None = None,
    tags: dict[str, str] | None = None,
) -> PartitionReport:
    """The cross-org totals of one month, from the tenants' curated tables."""
    key = month.isoformat()
    result = _materialize(
        defs,
        instance,
        CROSS_ORG_JOB,
        partition=key,
        tags=tags,
        on_step=_told(on_step, CROSS_ORG_LABEL, [month]),
    )
    checked = _checked(result, CROSS_ORG_LABEL, [month])
    return _report(checked, CROSS_ORG_LABEL, month, CROSS_ORG, key)


def ensure_dagster_home(path: Path) -> None:
    """Create DAGSTER_HOME with a dagster.yaml, unless one is already there."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")


def run_all(
    settings: Settings,
    plan: list[tuple[str, dt.date]],
    on_run: OnRun | None = None,
    on_step: OnStep | None = None,
) -> list[PartitionReport]:
    """A Dagster run per tenant and range of consecutive months (then one per cross-org
    month), recorded in the instance at DAGSTER_HOME. Ctrl-C raises RunInterrupted (a
    KeyboardInterrupt) and starts nothing more."""
    from finops_platform.definitions import build_definitions

    ensure_dagster_home(settings.dagster_home)
    defs = build_definitions(settings)
    reports: list[PartitionReport] = []
    # Opening the instance creates its SQLite storage the first time; two `finops run`s
    # starting together on a new DAGSTER_HOME would both try to, so one waits for the other.
    with file_lock(settings.dagster_home / ".finops-init.lock"):
        instance = dg.DagsterInstance.get()
    with instance, process_lock(settings.dagster_home / RUN_LOCKS) as tags:
        fail_dead_runs(instance)  # an earlier `finops run` killed mid-run
        months_by_tenant: dict[str, list[dt.date]] = {}
        for org_id, month in plan:
            months_by_tenant.setdefault(org_id, []).append(month)
        for org_id, months in months_by_tenant.items():
            for run in consecutive_runs(months):
                if on_run:
                    on_run(org_id, run)
                reports += run_tenant_months(defs, instance, org_id, run, on_step, tags)
        # Cross-org totals for the months where at least one tenant partition loaded.
        for month in sorted({r.month for r in reports if r.success}):
            if on_run:
                on_run(CROSS_ORG_LABEL, [month])
            reports.append(run_cross_org(defs, instance, month, on_step, tags))
    return reports
