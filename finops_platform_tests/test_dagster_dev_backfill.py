"""End to end with `dagster dev`: a backfill of three months launched the way the UI's
"Materialize selected" dialog does is one run over the partition range (the assets' single-run
backfill policy), and each month gets its own materialization with its own row count."""

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import yaml

from finops_platform.sample import generate_month
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.dagster_dev import (
    DAGSTER_YAML,
    RUN_TIMEOUT_S,
    STARTUP_TIMEOUT_S,
    graphql,
    int_metadata,
    run_events,
    running_dagster_dev,
    wait_for_code_location,
    wait_until,
)

MONTHS = [dt.date(2026, 6, 1), dt.date(2026, 7, 1), dt.date(2026, 8, 1)]
ASSETS = [
    "raw_cur",
    "tb_cur_raw",
    "cost_daily",
    "cost_by_tag",
    "cost_monthly_summary",
    "focus_cost",
    "cost_by_workload",
]
# The backfill daemon ticks about every 30 s; launching and running the range comes on top.
BACKFILL_TIMEOUT_S = 60.0 + RUN_TIMEOUT_S

LAUNCH_BACKFILL = """
mutation LaunchBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
  }
}
"""

BACKFILL_QUERY = """
query Backfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {
      status
      runs { runId status tags { key value } }
    }
    ... on PythonError { message }
  }
}
"""


def environment(tmp_path: Path, source: Path) -> dict[str, str]:
    config = tmp_path / "tenants.json"
    config.write_text(json.dumps([tenant_entry("acme", source, first_billing_month="2026-01")]))
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(DAGSTER_YAML))
    return {
        **os.environ,
        "CONFIG_PATH": str(config),
        "ENVIRONMENT": "dev",
        "FINOPS_HOME": str(tmp_path / "finops_home"),
        "DAGSTER_HOME": str(dagster_home),
        "PYTHONUNBUFFERED": "1",
    }


def finished_backfill(server: Any, backfill_id: str) -> dict[str, Any] | None:
    backfill = graphql(server, BACKFILL_QUERY, {"backfillId": backfill_id})
    backfill = backfill["partitionBackfillOrError"]
    assert backfill["__typename"] == "PartitionBackfill", backfill
    done = backfill["status"] not in ("REQUESTED",) and backfill["runs"]
    running = any(
        run["status"] not in ("SUCCESS", "FAILURE", "CANCELED") for run in backfill["runs"]
    )
    return backfill if done and not running else None


def test_a_ui_backfill_of_three_months_is_one_run_with_a_materialization_per_month(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    rows = {
        month: generate_month(source, month=month, rows=800 + 100 * i, fmt="legacy", seed=4).rows
        for i, month in enumerate(MONTHS)
    }
    partitions = [f"{month:%Y-%m-%d}|acme" for month in MONTHS]
    with running_dagster_dev(tmp_path, environment(tmp_path, source)) as server:
        wait_for_code_location(server, STARTUP_TIMEOUT_S)
        launched = graphql(
            server,
            LAUNCH_BACKFILL,
            {
                "backfillParams": {
                    "partitionNames": partitions,
                    "assetSelection": [{"path": [asset]} for asset in ASSETS],
                    "fromFailure": False,
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill = wait_until(
            "the backfill to finish",
            lambda: finished_backfill(server, launched["backfillId"]),
            BACKFILL_TIMEOUT_S,
        )
        (run,) = backfill["runs"]
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        assert run["status"] == "SUCCESS", run
        assert tags["dagster/asset_partition_range_start"] == partitions[0]
        assert tags["dagster/asset_partition_range_end"] == partitions[-1]
        events = run_events(server, run["runId"])
    loads = {
        event["partition"]: int_metadata(event, "dagster/row_count")
        for event in events
        if event["__typename"] == "MaterializationEvent"
        and event["assetKey"]["path"] == ["raw_cur"]
    }
    assert loads == {f"{month:%Y-%m-%d}|acme": count for month, count in rows.items()}
