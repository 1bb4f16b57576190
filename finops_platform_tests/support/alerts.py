"""Evaluate the Slack alert sensors for a finished run, as the daemon would."""

import dagster as dg


def alert_for_run(defs: dg.Definitions, instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Run the success or failure alert sensor on `run`'s final event."""
    failed = run.status == dg.DagsterRunStatus.FAILURE
    kind = dg.DagsterEventType.RUN_FAILURE if failed else dg.DagsterEventType.RUN_SUCCESS
    (final,) = instance.get_records_for_run(run.run_id, of_type=kind).records
    sensor = defs.resolve_sensor_def(
        "slack_alerts_on_failure" if failed else "slack_alerts_on_success"
    )
    with dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=final.event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources=defs.resources,
    ) as context:
        sensor(context.for_run_failure() if failed else context)
