"""End to end through `dagster dev`: materialize one real CUR month the way the UI does.

The only test that goes through the webserver, the code location loaded from workspace.yaml and
a run launched as a separate process: the partition `2018-10-01|real_sample` of `raw_cur` and
`tb_cur_raw`, launched with every check of the asset job, succeeds on the real October 2018 CUR
sample and reports its rows and check results back through GraphQL.
"""

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.dagster_dev import (
    DAGSTER_YAML,
    RUN_TIMEOUT_S,
    STARTUP_TIMEOUT_S,
    describe_failure,
    int_metadata,
    launch_partition_run,
    materialization_of,
    run_events,
    running_dagster_dev,
    wait_for_code_location,
    wait_for_run,
)

TENANT = "real_sample"
PARTITION = "2018-10-01|real_sample"
EXPECTED_RAW_ROWS = 119_307  # line items in the October 2018 sample (shared/samples/README.md)
ASSET_KEYS = [{"path": ["raw_cur"]}, {"path": ["tb_cur_raw"]}]
RAW_CHECKS = {
    "raw_schema",
    "raw_partition_validity",
    "raw_row_count",
    "raw_unique_line_items",
    "raw_finite_costs",
}


@pytest.fixture
def dagster_env(tmp_path: Path, real_sample: Path) -> dict[str, str]:
    """Environment of `dagster dev`: one real tenant, all state under tmp_path."""
    finops_home = tmp_path / "finops_home"
    dagster_home = tmp_path / "dagster_home"
    finops_home.mkdir()
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(DAGSTER_YAML), encoding="utf-8")
    config_path = tmp_path / "tenants_config.json"
    tenants = [
        tenant_entry(TENANT, real_sample, cur_format="legacy", first_billing_month="2018-10")
    ]
    config_path.write_text(json.dumps(tenants, indent=2), encoding="utf-8")
    return {
        **os.environ,
        "CONFIG_PATH": str(config_path),
        "ENVIRONMENT": "dev",
        "FINOPS_HOME": str(finops_home),
        "DAGSTER_HOME": str(dagster_home),
        "PYTHONUNBUFFERED": "1",  # so the log is complete when it is printed on failure
    }


def test_ui_launch_of_one_real_partition_materializes_and_passes_checks(
    tmp_path: Path, dagster_env: dict[str, str]
) -> None:
    started = time.monotonic()
    with running_dagster_dev(tmp_path, dagster_env) as server:
        location = wait_for_code_location(server, STARTUP_TIMEOUT_S)
        ready = time.monotonic()

        run_id = launch_partition_run(server, location, PARTITION, ASSET_KEYS)
        run = wait_for_run(server, run_id, RUN_TIMEOUT_S)
        events = run_events(server, run_id)
        print(
            f"\ndagster dev ready in {ready - started:.1f} s, run {run_id} "
            f"{run['status']} after {time.monotonic() - ready:.1f} s"
        )

        assert run["status"] == "SUCCESS", describe_failure(events)
        assert {"key": "dagster/partition", "value": PARTITION} in run["tags"]
        assert sorted(a["path"] for a in run["assetSelection"]) == [["raw_cur"], ["tb_cur_raw"]]

        raw = materialization_of(events, "raw_cur")
        assert raw["partition"] == PARTITION
        assert int_metadata(raw, "dagster/row_count") == EXPECTED_RAW_ROWS

        # The catalog table reads the month back through the query engine: same rows.
        table = materialization_of(events, "tb_cur_raw")
        assert table["partition"] == PARTITION
        assert int_metadata(table, "dagster/row_count") == EXPECTED_RAW_ROWS

        evaluations = {
            e["evaluation"]["checkName"]: e["evaluation"]
            for e in events
            if e["__typename"] == "AssetCheckEvaluationEvent"
            and e["evaluation"]["assetKey"]["path"] == ["raw_cur"]
        }
        assert set(evaluations) == RAW_CHECKS, evaluations
        failed = {name: ev for name, ev in evaluations.items() if not ev["success"]}
        assert not failed, f"checks failed: {json.dumps(failed, indent=2)}"
        assert {ev["partition"] for ev in evaluations.values()} == {PARTITION}
