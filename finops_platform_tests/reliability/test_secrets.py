"""Secrets (issue 7): the Slack webhook URL and the AWS secret key appear in no log line, event
metadata or error message; the Dagster event log of every run is searched."""

import datetime as dt
import json
import shutil
from pathlib import Path

import boto3
import dagster as dg
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.common.partitions import partition_key
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.alerts import alert_for_run
from finops_platform_tests.support.moto import queue_athena_results, raw_ingest_results
from finops_platform_tests.support.slack_receiver import SlackReceiver

AWS_SECRET = "aws-secret-key-that-must-never-be-logged"
MONTH = dt.date(2026, 9, 1)


def event_log_text(instance: dg.DagsterInstance) -> str:
    runs = instance.get_runs()
    assert runs
    return "\n".join(str(entry) for run in runs for entry in instance.all_logs(run.run_id))


def test_the_webhook_never_reaches_logs_or_messages(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig, slack: SlackReceiver
) -> None:
    write_config([tenant_entry("acme", tmp_path / "src")])
    generate_month(
        tmp_path / "src", month=MONTH, rows=800, fmt="cur2", seed=1, until=dt.datetime(2026, 9, 20)
    )  # closed month, incomplete: a WARN to post
    result = CliRunner().invoke(main, ["run", "--month", "2026-09"])
    assert result.exit_code == 0
    instance = dg.DagsterInstance.get()
    defs = build_definitions(load_settings())
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS])):
        alert_for_run(defs, instance, run)
    assert any("month_complete" in text for text in slack.texts())  # the alert went out
    secret = slack.url.rsplit("/", 1)[-1]
    assert secret not in result.output
    assert secret not in event_log_text(instance)
    assert not any(secret in text for text in slack.texts())


def test_the_aws_secret_key_never_reaches_the_event_log(
    aws: str, tmp_path: Path, finops_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    s3 = boto3.client("s3")
    for bucket in ("finops-lake-prod", "datalake-raw"):
        s3.create_bucket(Bucket=bucket)
    config = tmp_path / "tenants.json"
    config.write_text(json.dumps([tenant_entry("acme", "s3://datalake-raw/acme/")]))
    monkeypatch.setenv("CONFIG_PATH", str(config))
    monkeypatch.setenv("ENVIRONMENT", "prod")
    local = tmp_path / "delivery"
    delivery = generate_month(local, month=MONTH, rows=800, fmt="cur2", seed=1)
    for path in [*delivery.data_files, delivery.manifest_path]:
        s3.upload_file(str(path), "datalake-raw", f"acme/{path.relative_to(local)}")
    shutil.rmtree(local)

    # raw_cur runs in Athena, in the workgroup onboarding provisions: the CUR 2.0 month is
    # copied inside S3, so Athena runs its two checks and no UNLOAD.
    assert CliRunner().invoke(main, ["tenant", "init", "acme"]).exit_code == 0
    queue_athena_results(aws, raw_ingest_results(MONTH, 800)[1:])
    defs = build_definitions(load_settings())
    instance = dg.DagsterInstance.get()
    ok = dg.materialize(
        assets=list(defs.assets or []),
        resources=defs.resources,
        instance=instance,
        partition_key=partition_key("acme", MONTH),
        selection=dg.AssetSelection.assets("raw_cur"),
    )
    assert ok.success
    missing = dg.materialize(  # a failure, with its error message, goes to the event log too
        assets=list(defs.assets or []),
        resources=defs.resources,
        instance=instance,
        partition_key=partition_key("acme", dt.date(2026, 8, 1)),
        selection=dg.AssetSelection.assets("raw_cur"),
        raise_on_error=False,
    )
    assert not missing.success
    assert AWS_SECRET not in event_log_text(instance)
