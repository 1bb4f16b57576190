"""Slack alerts through a real local HTTP receiver: a freshness breach alerts once, stays quiet
within the re-alert period, announces its recovery; with Slack down, runs still succeed and the
alert arrives once Slack is back. The webhook URL never reaches the run's event log."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.common.partitions import PARTITION_TAG, RANGE_START_TAG
from finops_platform.defs.freshness.schedules import FRESHNESS_JOB
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.alerts import alert_for_run
from finops_platform_tests.support.slack_receiver import SlackReceiver

MONTH = dt.date(2026, 11, 1)
OCTOBER = "2026-10-01|beta"  # a partition key of tenant beta


@pytest.fixture
def beta(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    """Tenant beta (SLA 12 h), delivered up to 2026-11-20 10:00 (last usage hour 09:00)."""
    source = tmp_path / "beta"
    write_config([tenant_entry("beta", source, sla_hours=12, first_billing_month="2026-10")])
    deliver(source, dt.datetime(2026, 11, 20, 10))
    return source


def deliver(source: Path, until: dt.datetime) -> None:
    generate_month(source, month=MONTH, rows=2000, fmt="cur2", seed=4, until=until)
    result = CliRunner().invoke(main, ["run", "--month", "2026-11"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def freshness_run_then_alert(now: dt.datetime, partition: str | None = None) -> dg.DagsterRun:
    """The scheduled freshness checks at `now`, then what the alert sensor does when it ends;
    with `partition`, the checks run as inside that partition's run (as the UI launches it)."""
    defs = build_definitions(load_settings(), now=now)
    instance = dg.DagsterInstance.get()
    tags = {PARTITION_TAG: partition} if partition else None
    result = defs.resolve_job_def(FRESHNESS_JOB).execute_in_process(instance=instance, tags=tags)
    assert result.success  # a breach never fails the run
    alert_for_run(defs, instance, result.dagster_run)
    return result.dagster_run


def retry_pending() -> None:
    defs = build_definitions(load_settings())
    with dg.build_sensor_context(resources=defs.resources, definitions=defs) as context:
        defs.resolve_sensor_def("slack_alert_retry")(context)


def test_breach_alerts_once_then_recovery_is_announced(beta: Path, slack: SlackReceiver) -> None:
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 3))  # 18 h > 12 h
    (breach,) = slack.texts()
    assert "freshness_sla_beta" in breach and "tenant beta" in breach
    assert "hours_lag=18.0" in breach and "sla_hours=12.0" in breach
    assert "/assets/tb_cur_raw?view=checks" in breach

    freshness_run_then_alert(dt.datetime(2026, 11, 21, 4))  # still breached, within 240 min
    assert len(slack.texts()) == 1

    freshness_run_then_alert(dt.datetime(2026, 11, 21, 8))  # past the re-alert period
    assert slack.texts()[-1].startswith("Still failing:")

    deliver(beta, dt.datetime(2026, 11, 21, 8))  # data arrives
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 9))
    assert len(slack.texts()) == 3
    assert "Recovered" in slack.texts()[-1] and "tenant beta" in slack.texts()[-1]


def test_freshness_inside_partition_runs_alerts_once_per_tenant(
    beta: Path, slack: SlackReceiver
) -> None:
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 3))
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 3, 5), partition="2026-10-01|beta")
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 3, 10), partition="2026-11-01|beta")
    (breach,) = slack.texts()  # one SLA, one alert, whichever run evaluated it
    assert "freshness_sla_beta" in breach
    deliver(beta, dt.datetime(2026, 11, 21, 8))
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 9), partition="2026-10-01|beta")
    assert len(slack.texts()) == 2 and "Recovered" in slack.texts()[-1]


def test_with_slack_down_runs_succeed_and_the_alert_arrives_later(
    beta: Path, slack: SlackReceiver
) -> None:
    slack.stop()
    run = freshness_run_then_alert(dt.datetime(2026, 11, 21, 3))
    retry_pending()  # Slack still down: nothing lost, nothing raised
    slack.start()  # back, on the same port
    assert slack.texts() == []
    retry_pending()
    (breach,) = slack.texts()
    assert "freshness_sla_beta" in breach
    # The webhook (a secret) appears in no event of the run.
    logs = dg.DagsterInstance.get().all_logs(run.run_id)
    assert not any("test-webhook-secret" in str(entry) for entry in logs)


def last_run(instance: dg.DagsterInstance, partition: str) -> dg.DagsterRun:
    (run,) = instance.get_runs(filters=dg.RunsFilter(tags={PARTITION_TAG: partition}), limit=1)
    return run


def test_a_failed_run_is_posted_once_with_its_reason_and_its_recovery_is_announced(
    beta: Path, slack: SlackReceiver
) -> None:
    defs = build_definitions(load_settings())
    instance = dg.DagsterInstance.get()
    for _ in range(2):  # as the daily refresh retries a month that is not delivered
        result = CliRunner().invoke(main, ["run", "--month", "2026-10"])
        assert result.exit_code == 1
        alert_for_run(defs, instance, last_run(instance, OCTOBER))
    (message,) = slack.texts()
    assert "failed" in message and "tenant beta, month 2026-10" in message
    assert "no CUR delivery" in message

    generate_month(beta, month=dt.date(2026, 10, 1), rows=500, fmt="cur2", seed=5)
    result = CliRunner().invoke(main, ["run", "--month", "2026-10"])
    assert result.exit_code == 0, result.output
    alert_for_run(defs, instance, last_run(instance, OCTOBER))
    run_id = last_run(instance, OCTOBER).run_id
    assert slack.texts()[1:] == [
        ":white_check_mark: Recovered: run of __ephemeral_asset_job__ for tenant beta, month "
        f"2026-10 succeeded <http://127.0.0.1:3000/runs/{run_id}|run {run_id[:8]} in Dagster>"
    ]


def test_a_failed_run_over_a_range_of_months_is_posted_with_the_range(
    beta: Path, slack: SlackReceiver
) -> None:
    # Consecutive months go in one run (a single-run backfill); 2026-10 was never delivered.
    result = CliRunner().invoke(main, ["run", "--month", "2026-10", "--month", "2026-11"])
    assert result.exit_code == 1
    instance = dg.DagsterInstance.get()
    (ranged,) = [run for run in instance.get_runs() if RANGE_START_TAG in run.tags]
    assert ranged.status == dg.DagsterRunStatus.FAILURE
    alert_for_run(build_definitions(load_settings()), instance, ranged)
    (message,) = slack.texts()
    assert "for tenant beta, months 2026-10..2026-11 failed" in message
    assert "no CUR delivery" in message
