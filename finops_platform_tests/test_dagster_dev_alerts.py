"""End to end with `dagster dev` (webserver and daemon): a CUR delivery dropped into a tenant's
source path is picked up by the arrival sensor, materialized, and its failing check reaches a
local Slack receiver through the alert sensor; a failed `finops run` on the same instance reaches
it too."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from finops_platform.sample import generate_month
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.dagster_dev import (
    DAGSTER_YAML,
    STARTUP_TIMEOUT_S,
    running_dagster_dev,
    wait_for_code_location,
)
from finops_platform_tests.support.slack_receiver import SlackReceiver

ALERT_TIMEOUT_S = 240.0
FINOPS = Path(sys.executable).with_name("finops")


def environment(tmp_path: Path, source: Path, slack: SlackReceiver) -> dict[str, str]:
    config = tmp_path / "config"
    (config / "environments").mkdir(parents=True)
    (config / "environments" / "dev.json").write_text(
        json.dumps({"first_month": "2026-01", "sensor_interval_seconds": 2})
    )
    (config / "tenants.json").write_text(json.dumps([tenant_entry("acme", source)]))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(DAGSTER_YAML))
    return {
        **os.environ,
        "CONFIG_PATH": str(config / "tenants.json"),
        "ENVIRONMENT": "dev",
        "FINOPS_HOME": str(tmp_path / "finops_home"),
        "DAGSTER_HOME": str(dagster_home),
        "FINOPS_SLACK_WEBHOOK_URL": slack.url,
        "PYTHONUNBUFFERED": "1",
    }


def test_a_dropped_delivery_is_loaded_and_its_failing_check_reaches_slack(
    tmp_path: Path, slack: SlackReceiver
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    env = environment(tmp_path, source, slack)
    with running_dagster_dev(tmp_path, env) as server:
        wait_for_code_location(server, STARTUP_TIMEOUT_S)
        # A closed month whose data stops on the 25th: loaded, but month_complete fails (WARN).
        generate_month(
            source,
            month=dt.date(2026, 9, 1),
            rows=1500,
            fmt="legacy",
            seed=9,
            until=dt.datetime(2026, 9, 25),
        )
        wait_for_alert(slack, "month_complete")
        # `finops run` runs in its own process, outside the code location the daemon serves.
        cli = subprocess.run(
            [str(FINOPS), "run", "--month", "2026-10"],  # nothing delivered for October
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 1, cli.stdout + cli.stderr
        wait_for_alert(slack, "2026-10 failed")
    alerts = [t for t in slack.texts() if "month_complete" in t]
    assert alerts, f"no alert reached Slack; received: {slack.texts()}"
    (alert,) = alerts
    assert "[WARN]" in alert and "tenant acme, month 2026-09" in alert
    assert "/assets/tb_cur_raw?view=checks" in alert
    (failed,) = [t for t in slack.texts() if "2026-10 failed" in t]
    assert "Run of" in failed and "no CUR delivery" in failed


def wait_for_alert(slack: SlackReceiver, text: str) -> None:
    deadline = time.monotonic() + ALERT_TIMEOUT_S
    while time.monotonic() < deadline and not any(text in t for t in slack.texts()):
        time.sleep(1)
