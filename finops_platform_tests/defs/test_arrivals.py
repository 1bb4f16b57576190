"""The CUR arrival sensor: a new delivery requests exactly its partition, once; a restatement
requests it again; a delivery without its manifest waits. On S3 (moto server) and on disk."""

import datetime as dt
import json
import shutil
from pathlib import Path

import boto3
import dagster as dg
import pytest

from finops_platform.definitions import build_definitions
from finops_platform.defs.arrivals.sensors import arrival_sensor_name
from finops_platform.lib.store import LocalObjectStore
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load

SEPTEMBER, OCTOBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1)


class Ticks:
    """Evaluates one tenant's arrival sensor tick after tick, carrying its cursor."""

    def __init__(self, org_id: str, cursor: str | None = None) -> None:
        self.defs = build_definitions(load_settings())
        self.sensor = self.defs.resolve_sensor_def(arrival_sensor_name(org_id))
        self.cursor = cursor

    def tick(self) -> list[dg.RunRequest]:
        with dg.build_sensor_context(
            cursor=self.cursor, definitions=self.defs, resources=self.defs.resources
        ) as context:
            data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return list(data.run_requests or [])


def test_a_delivery_in_s3_is_requested_once_and_again_when_restated(
    aws: str, finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="datalake-raw")
    config = write_config([tenant_entry("alpha", "s3://datalake-raw/tenant-alpha/")])
    environment = {"engine": "athena", "object_store": "s3", "catalog": "glue"}
    (config.parent / "environments").mkdir()
    (config.parent / "environments" / "dev.json").write_text(json.dumps(environment))

    def deliver(month: dt.date, rows: int, with_manifest: bool = True) -> None:
        local = tmp_path / f"d-{month}-{rows}"
        delivery = generate_month(local, month=month, rows=rows, fmt="cur2", seed=1)
        files = delivery.data_files + ([delivery.manifest_path] if with_manifest else [])
        for path in files:  # data first, manifest last, as AWS does
            s3.upload_file(str(path), "datalake-raw", f"tenant-alpha/{path.relative_to(local)}")
        shutil.rmtree(local)

    ticks = Ticks("alpha")
    assert ticks.tick() == []
    deliver(SEPTEMBER, 600)
    deliver(OCTOBER, 600, with_manifest=False)  # partial: data files, no manifest yet
    (request,) = ticks.tick()
    assert request.partition_key == "2026-09-01|alpha"
    assert request.run_key.startswith("2026-09-01|alpha:")
    assert ticks.tick() == []  # the same delivery is never requested twice

    deliver(SEPTEMBER, 700)  # AWS restates the month: a new manifest
    (again,) = ticks.tick()
    assert again.partition_key == "2026-09-01|alpha" and again.run_key != request.run_key
    assert ticks.tick() == []


def test_a_local_delivery_is_picked_up_too(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("beta", source, first_billing_month="2026-01")])
    ticks = Ticks("beta")
    generate_month(source, month=OCTOBER, rows=600, fmt="legacy", seed=1)
    (request,) = ticks.tick()
    assert request.partition_key == "2026-10-01|beta"
    assert ticks.tick() == []


def test_a_month_outside_the_partitions_is_not_requested(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("beta", source, first_billing_month="2026-06")])
    generate_month(source, month=dt.date(2025, 6, 1), rows=600, fmt="legacy", seed=1)
    assert Ticks("beta").tick() == []


def test_a_skipped_month_is_requested_once_the_months_include_it(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    source = tmp_path / "source"
    entry = tenant_entry("acme", source, first_billing_month="2026-06")
    write_config([entry])
    generate_month(source, month=dt.date(2026, 3, 1), rows=600, fmt="legacy", seed=1)
    ticks = Ticks("acme")
    assert ticks.tick() == [] and ticks.tick() == []
    # Dagster's logger writes to stderr, not through the root logger caplog reads.
    assert capfd.readouterr().err.count("outside the tenant's months 2026-06..") == 1

    write_config([{**entry, "first_billing_month": "2026-01"}])  # the operator widens the months
    widened = Ticks("acme", cursor=ticks.cursor)
    (request,) = widened.tick()
    assert request.partition_key == "2026-03-01|acme"
    assert widened.tick() == []


def test_the_sensor_requests_no_month_before_the_tenants_first_billing_month(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(
        [
            tenant_entry("old", tmp_path / "old", first_billing_month="2026-01"),
            tenant_entry("newbie", tmp_path / "new", first_billing_month="2026-06"),
        ]
    )
    for org in ("old", "new"):
        generate_month(tmp_path / org, month=dt.date(2026, 5, 1), rows=600, fmt="cur2", seed=1)
    (request,) = Ticks("old").tick()
    assert request.partition_key == "2026-05-01|old"
    assert Ticks("newbie").tick() == []


def test_the_daily_schedule_starts_each_tenant_at_its_first_billing_month(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(
        [
            tenant_entry("old", tmp_path / "old", first_billing_month="2026-01"),
            tenant_entry("newbie", tmp_path / "new", first_billing_month="2026-11"),
        ]
    )
    defs = build_definitions(load_settings())
    schedule = defs.resolve_schedule_def("daily_tenant_refresh")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 10, 6, tzinfo=dt.UTC),
        repository_def=defs.get_repository_def(),
    )
    keys = sorted(r.partition_key for r in schedule.evaluate_tick(context).run_requests)
    # Not 2026-10-01|newbie: newbie has no October delivery, so that run would fail every day.
    assert keys == ["2026-10-01|old", "2026-11-01|newbie", "2026-11-01|old"]


@pytest.mark.parametrize("day", [dt.date(2026, 11, 28), dt.date(2026, 12, 1)])
def test_the_daily_schedule_reloads_current_and_previous_month_of_every_tenant(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path, day: dt.date
) -> None:
    write_config(
        [
            tenant_entry("alpha", tmp_path / "a", first_billing_month="2026-01"),
            tenant_entry("beta", tmp_path / "b", first_billing_month="2026-01"),
            tenant_entry("idle", tmp_path / "c", active=False),
        ]
    )
    defs = build_definitions(load_settings())
    schedule = defs.resolve_schedule_def("daily_tenant_refresh")
    when = dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)
    context = dg.build_schedule_context(
        scheduled_execution_time=when, repository_def=defs.get_repository_def()
    )
    keys = sorted(r.partition_key for r in schedule.evaluate_tick(context).run_requests)
    current = day.replace(day=1)
    previous = (current - dt.timedelta(days=1)).replace(day=1)
    assert keys == sorted(
        f"{month}|{org}" for org in ("alpha", "beta") for month in (previous, current)
    )


def test_deliveries_already_live_are_not_requested_again_with_a_fresh_cursor(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`finops demo-data && finops run`, then `dagster dev`: the sensors start with no cursor,
    and must not load again what `finops run` loaded (the catalog says what is live)."""
    write_config(
        [
            tenant_entry("beta", tmp_path / "beta", first_billing_month="2026-01"),
            tenant_entry("gamma", tmp_path / "gamma", first_billing_month="2026-01"),
        ]
    )
    for month in (SEPTEMBER, OCTOBER):
        generate_month(tmp_path / "beta", month=month, rows=500, fmt="legacy", seed=1)
        generate_month(tmp_path / "gamma", month=month, rows=500, fmt="cur2", seed=1)
    assert load().ok

    reads: list[str] = []
    read_bytes = LocalObjectStore.read_bytes

    def counted(store: LocalObjectStore, uri: str) -> bytes:
        reads.append(uri)
        return read_bytes(store, uri)

    monkeypatch.setattr(LocalObjectStore, "read_bytes", counted)
    for org in ("beta", "gamma"):
        ticks = Ticks(org)  # a fresh cursor
        assert ticks.tick() == []
        assert len(json.loads(ticks.cursor)["requested"]) == 2  # the cursor records both
        assert len(reads) == 2  # each manifest read once, to compare its assembly id
        assert ticks.tick() == []  # known ETags: no manifest read, no request
        assert len(reads) == 2
        reads.clear()

    # AWS restates gamma's October: a new assembly is requested, and only that one.
    generate_month(tmp_path / "gamma", month=OCTOBER, rows=550, fmt="cur2", seed=2)
    (request,) = Ticks("gamma").tick()
    assert request.partition_key == "2026-10-01|gamma"
