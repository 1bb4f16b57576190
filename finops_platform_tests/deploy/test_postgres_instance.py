"""The staging Dagster instance (deploy/staging/dagster.yaml) on a real PostgreSQL server.

`finops run` and the daemon keep their runs, materializations, check results and sensor state
in PostgreSQL through the deployment's own instance config; two `finops run`s at once share it.
Each test has its own database on one private server (support/postgres.py).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    ScheduleInstigatorData,
)
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import RAW_CUR, TB_CUR_RAW, TENANT_MONTH_CHECKS
from finops_platform.defs.common.partitions import partition_key
from finops_platform.defs.consistency.repairs import SENSOR_NAME
from finops_platform.defs.curated.tables import curated_lineage
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import REPO_ROOT, WriteConfig, tenant_entry
from finops_platform_tests.deploy.conftest import STAGING_YAML, Deploy
from finops_platform_tests.support.dagster_dev import (
    STARTUP_TIMEOUT_S,
    running_dagster_dev,
    wait_for_code_location,
    wait_until,
)
from finops_platform_tests.support.postgres import Postgres

FINOPS = Path(sys.executable).with_name("finops")
AUGUST, SEPTEMBER = dt.date(2026, 8, 1), dt.date(2026, 9, 1)
FRESHNESS_SCHEDULE = "freshness_sla_every_5_minutes"
TENANT_ASSETS = {RAW_CUR, TB_CUR_RAW, *curated_lineage()}


@pytest.fixture
def deployed(deploy: Deploy) -> tuple[dict[str, str], str]:
    """The environment of a process using the staging instance, on a database of its own; and
    that database's name."""
    database = deploy(STAGING_YAML)
    return {**os.environ, "PYTHONUNBUFFERED": "1"}, database


def finops_run(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(FINOPS), "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err


def started_earlier(schedule_name: str, seconds: float) -> None:
    """Start a schedule in the deployment's instance as if `seconds` ago, so the daemon finds a
    cron boundary it has missed and ticks at once (else the 5-minute schedule would make the
    test wait for the next boundary)."""
    instance = dg.DagsterInstance.get()
    target = WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
    with WorkspaceProcessContext(instance, target) as workspace:
        context = workspace.create_request_context()
        (schedule,) = [
            repository.get_schedule(schedule_name)
            for location in context.code_locations
            for repository in location.get_repositories().values()
            if repository.has_schedule(schedule_name)
        ]
    # Stored as running since then (start_schedule stores nothing for a schedule running by
    # default: its state is computed from the code until something is stored).
    instance.add_instigator_state(
        InstigatorState(
            schedule.get_remote_origin(),
            InstigatorType.SCHEDULE,
            InstigatorStatus.RUNNING,
            ScheduleInstigatorData(schedule.cron_schedule, time.time() - seconds),
        )
    )


def test_the_deployment_instance_reads_its_connection_from_the_environment() -> None:
    """No connection detail is written in the file, and the driver is named (DESIGN.md: a bare
    `postgresql` scheme fails with SQLAlchemy 2.1 and dagster-postgres 0.29.27)."""
    config = yaml.safe_load(STAGING_YAML.read_text())
    database = config["storage"]["postgres"]["postgres_db"]
    assert database.pop("scheme") == "postgresql+psycopg2"
    assert database == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "username": {"env": "DAGSTER_PG_USER"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
    }
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_finops_run_keeps_runs_materializations_and_checks_in_postgres(
    postgres: Postgres,
    deployed: tuple[dict[str, str], str],
    tmp_path: Path,
    write_config: WriteConfig,
) -> None:
    """Two consecutive months: one single-run backfill of the tenant, then a cross-org run per
    month, every asset materialized and every check passed, as rows of PostgreSQL."""
    env, database = deployed
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    for month in (AUGUST, SEPTEMBER):
        generate_month(tmp_path / "alpha", month=month, rows=1500, fmt="cur2", seed=month.month)
    finished(finops_run({**env, "CONFIG_PATH": os.environ["CONFIG_PATH"]}))

    runs = postgres.query(database, "SELECT status, run_body FROM runs")
    assert [status for status, _ in runs] == ["SUCCESS"] * 3, runs
    keys = {str(partition_key("alpha", m)) for m in (AUGUST, SEPTEMBER)}
    materialized = set(
        postgres.query(
            database,
            "SELECT DISTINCT asset_key, partition FROM event_logs "
            "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'",
        )
    )
    for asset in TENANT_ASSETS:
        for key in keys:
            assert (asset.to_string(), key) in materialized, (asset, key)
    checks = postgres.query(
        database,
        "SELECT partition, check_name, execution_status FROM asset_check_executions "
        "WHERE partition LIKE '%|alpha'",
    )
    for key in keys:
        mine = {(name, status) for partition, name, status in checks if partition == key}
        assert mine == {(c.name, "SUCCEEDED") for c in TENANT_MONTH_CHECKS}, key


def test_two_finops_runs_at_once_share_the_instance(
    postgres: Postgres,
    deployed: tuple[dict[str, str], str],
    tmp_path: Path,
    write_config: WriteConfig,
) -> None:
    env, database = deployed
    write_config([tenant_entry(org, tmp_path / org) for org in ("alpha", "beta")])
    for seed, org in enumerate(("alpha", "beta")):
        generate_month(tmp_path / org, month=SEPTEMBER, rows=1500, fmt="legacy", seed=seed)
    env = {**env, "CONFIG_PATH": os.environ["CONFIG_PATH"]}
    both = [finops_run(env, "--tenant", org) for org in ("alpha", "beta")]
    for process in both:
        finished(process)
    tenant_runs = postgres.query(
        database,
        "SELECT DISTINCT r.status, t.value FROM runs r JOIN run_tags t ON t.run_id = r.run_id "
        "WHERE t.key = 'dagster/partition' AND t.value LIKE '%|%'",
    )
    assert sorted(tenant_runs) == [
        ("SUCCESS", str(partition_key(org, SEPTEMBER))) for org in ("alpha", "beta")
    ]


def test_the_daemon_keeps_sensor_ticks_and_schedule_state_in_postgres(
    postgres: Postgres,
    deployed: tuple[dict[str, str], str],
    tmp_path: Path,
    write_config: WriteConfig,
) -> None:
    """`dagster dev` (webserver and daemon) on the deployment's instance: sensor ticks, a
    schedule tick and the schedules' running state are PostgreSQL rows."""
    env, database = deployed
    (tmp_path / "alpha").mkdir()
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    env = {**env, "CONFIG_PATH": os.environ["CONFIG_PATH"]}
    started_earlier(FRESHNESS_SCHEDULE, seconds=600)
    with running_dagster_dev(tmp_path, env) as server:
        wait_for_code_location(server, STARTUP_TIMEOUT_S)
        ticks = wait_until(
            "a layer_consistency sensor tick in PostgreSQL",
            lambda: postgres.query(
                database,
                "SELECT status FROM job_ticks "
                f"WHERE type = 'SENSOR' AND tick_body LIKE '%\"{SENSOR_NAME}\"%'",
            ),
            STARTUP_TIMEOUT_S,
        )
        schedule_ticks = wait_until(
            "a freshness schedule tick in PostgreSQL",
            lambda: postgres.query(
                database,
                "SELECT status FROM job_ticks "
                f"WHERE type = 'SCHEDULE' AND tick_body LIKE '%\"{FRESHNESS_SCHEDULE}\"%'",
            ),
            STARTUP_TIMEOUT_S,
        )
    assert ticks and schedule_ticks
    # The other schedules tick on their cron boundaries; what is stored at once is their
    # state, running as declared in code.
    schedules = postgres.query(
        database,
        "SELECT status, instigator_body FROM instigators WHERE instigator_type = 'SCHEDULE'",
    )
    declared = sorted(s.name for s in build_definitions(load_settings()).schedules or [])
    assert {status for status, body in schedules if FRESHNESS_SCHEDULE not in body} == {
        "DECLARED_IN_CODE"
    }
    stored = [name for name in declared for _, body in schedules if f'"{name}"' in body]
    assert stored == declared
