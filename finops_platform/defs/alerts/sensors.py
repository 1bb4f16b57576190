"""Slack alerts for failed checks (WARN and ERROR) and failed runs, from run status sensors.

Runs never alert themselves, so an unreachable Slack cannot fail a data run: when a run ends,
these sensors read its check evaluations, update the alert book (alert once, re-alert after a
period, announce recoveries) and post what is due. What cannot be posted stays pending and the
retry sensor posts it later. (A run status sensor, not an event-log polling one: the latter
breaks on Dagster's default SQLite storage, docs/ARCHITECTURE.md.)
"""

import datetime as dt

import dagster as dg

from finops_platform.defs.alerts.messages import (
    check_messages,
    failure_message,
    run_failure_message,
    run_recovery_message,
)
from finops_platform.defs.alerts.owners import (
    OwnersOf,
    configured_tenants,
    owners_note,
    owners_of_tenants,
    partition_tenants,
    tenant_owners,
)
from finops_platform.defs.common.partitions import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from finops_platform.lib.alerts.book import AlertBook, NotifyError
from finops_platform.resources import AlertSettings, Clock, FinOpsSettings


def _deliver(alerts: AlertSettings, book: AlertBook, log: dg.DagsterLogManager) -> None:
    sent, pending = book.flush(alerts.notifier().send)
    if pending:
        log.warning(
            f"{sent} alert(s) posted to Slack, {pending} could not be and stay pending for retry"
        )


def record_run(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    alerts: AlertSettings,
    now: dt.datetime,
    failure: str | None = None,
    owners_of: OwnersOf | None = None,
    tenants: list[str] | None = None,
) -> AlertBook:
    """Turn one finished run's check evaluations (and its failure) into due alerts; each
    names the owners of its tenant(s) (`owners_of`; `tenants` in the config's order)."""
    book = alerts.book()
    partition = run.tags.get(PARTITION_TAG)
    ranged = RANGE_START_TAG in run.tags
    if ranged:
        partition = f"{run.tags[RANGE_START_TAG]}...{run.tags[RANGE_END_TAG]}"
    records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    for record in records:
        evaluation: dg.AssetCheckEvaluation = record.dagster_event.event_specific_data
        if ranged and evaluation.partition is None:
            continue  # the verdict over the range: each partition's evaluation alerts itself
        # An unpartitioned check (a tenant's freshness) has no partition, even inside a
        # partition's run: keyed by the run's partition, each run would alert it anew.
        where = evaluation.partition
        breach, recovery = check_messages(evaluation, where, alerts.dagster_ui_url, owners_of)
        key = f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name}:{where or '-'}"
        book.observe(key, not evaluation.passed, breach, recovery, now)
    # A run failure is a state of its job and partition (or range) like a failed check: a job
    # failing on every tick alerts once, again after the re-alert period, and its next
    # successful run announces the recovery.
    ui_url = alerts.dagster_ui_url
    run_tenants = partition_tenants(partition, tenants or [])
    owners = owners_note(owners_of_tenants(owners_of, run_tenants) if owners_of else [])
    book.observe(
        f"run:{run.job_name}:{partition or '-'}",
        failure is not None,
        run_failure_message(run.job_name, run.run_id, partition, failure or "", ui_url) + owners,
        run_recovery_message(run.job_name, run.run_id, partition, ui_url) + owners,
        now,
    )
    return book


def slack_alerts_on_success(
    context: dg.RunStatusSensorContext, alerts: AlertSettings, clock: Clock, finops: FinOpsSettings
) -> None:
    """Posts failed checks (and recoveries) of successful runs to Slack."""
    book = record_run(
        context.instance,
        context.dagster_run,
        alerts,
        clock.now(),
        owners_of=tenant_owners(finops),
        tenants=configured_tenants(finops),
    )
    _deliver(alerts, book, context.log)


def slack_alerts_on_failure(
    context: dg.RunFailureSensorContext, alerts: AlertSettings, clock: Clock, finops: FinOpsSettings
) -> None:
    """Posts failed runs, and their failed checks, to Slack."""
    step_failures = context.get_step_failure_events()
    error = (
        "; ".join(failure_message(event) for event in step_failures)
        if step_failures
        else context.failure_event.message or "the run failed"
    )
    book = record_run(
        context.instance,
        context.dagster_run,
        alerts,
        clock.now(),
        failure=error,
        owners_of=tenant_owners(finops),
        tenants=configured_tenants(finops),
    )
    _deliver(alerts, book, context.log)


def slack_alert_retry(context: dg.SensorEvaluationContext, alerts: AlertSettings) -> dg.SkipReason:
    """Posts alerts that Slack could not take earlier."""
    try:
        sent, pending = alerts.book().flush(alerts.notifier().send)
    except NotifyError as exc:  # e.g. the webhook secret cannot be read
        return dg.SkipReason(f"alerts pending: {exc}")
    return dg.SkipReason(f"{sent} pending alert(s) posted, {pending} still pending")


def build_alert_sensors(interval_seconds: int) -> list[dg.SensorDefinition]:
    running = dg.DefaultSensorStatus.RUNNING
    # `finops run` launches its runs in process (dg.materialize): they belong to no code
    # location, and a run status sensor watching only its own location never sees them. The
    # instance serves this one code location (workspace.yaml), so all its runs are ours.
    watched = {
        "minimum_interval_seconds": interval_seconds,
        "default_status": running,
        "monitor_all_code_locations": True,
    }
    return [
        dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, **watched)(
            slack_alerts_on_success
        ),
        dg.run_failure_sensor(**watched)(slack_alerts_on_failure),
        dg.sensor(minimum_interval_seconds=max(interval_seconds, 30), default_status=running)(
            slack_alert_retry
        ),
    ]
