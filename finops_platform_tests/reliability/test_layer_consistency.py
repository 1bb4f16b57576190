"""Issue 16, case 3.3: layers never disagree silently.

A full disk while tb_cur_raw registers a restated month used to leave raw at the new delivery
and the catalog and cost_daily at the old one, every query answering and every check green, and
the arrival sensor never requested the month again. The `layers_agree` check compares the
layers (store, catalog, curated, central) as the last step of every tenant x month run; between
runs the layer consistency sensor evaluates the same verdict and requests one repair run, and
the repair brings every layer to the new delivery and ends with the check passing.
"""

from __future__ import annotations

import datetime as dt
import errno
import shutil
from decimal import Decimal
from pathlib import Path

import boto3
import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import LAYERS_AGREE, TB_CUR_RAW
from finops_platform.defs.common.partitions import PARTITION_TAG, partition_key
from finops_platform.defs.common.process_runs import HOST_TAG, fail_dead_runs, process_lock
from finops_platform.defs.common.tables import raw_table
from finops_platform.defs.consistency import sensors
from finops_platform.defs.consistency.layers import MonthLayers, TenantLayers
from finops_platform.defs.consistency.repairs import (
    REPAIR_TAG,
    RUN_KEY_TAG,
    SENSOR_NAME,
    read_cursor,
)
from finops_platform.defs.consistency.sensors import OLDER_MONTHS_PER_TICK, months_to_compare
from finops_platform.lake import RAW_TABLE, partition_values, raw_month
from finops_platform.lib.catalog import CatalogPartition, LocalCatalog
from finops_platform.lib.catalog.base import published_files_parameter
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.months import current_month, shift_month
from finops_platform.resources import build_resources
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import TenantConfig, load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import Load, home_instance, load, query

SEPTEMBER = dt.date(2026, 9, 1)
KEY = str(partition_key("alpha", SEPTEMBER))
RAW_TOTALS = (
    "SELECT count(*) AS n, CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR)"
    " AS cost FROM tb_cur_raw WHERE year = 2026 AND month = 9"
)
DAILY_TOTALS = (
    "SELECT sum(line_items) AS n, CAST(sum(unblended_cost) AS VARCHAR) AS cost FROM cost_daily "
    "WHERE year = 2026 AND month = 9"
)


class Ticks:
    """The layer consistency sensor, tick after tick, with its cursor."""

    def __init__(self) -> None:
        self.defs = build_definitions(load_settings())
        self.sensor = self.defs.resolve_sensor_def(SENSOR_NAME)
        self.cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        with (
            home_instance() as instance,
            dg.build_sensor_context(
                instance=instance,
                cursor=self.cursor,
                definitions=self.defs,
                resources=self.defs.resources,
            ) as context,
        ):
            data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return list(data.run_requests or [])

    def open_incidents(self) -> set[str]:
        return set(read_cursor(self.cursor).incidents)


def execute(request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """What the daemon launches for a repair request: the tenant x month job, narrowed to the
    request's assets and checks, tagged with its run key."""
    job = build_definitions(load_settings()).resolve_job_def("tenant_month_refresh")
    if request.asset_selection is not None:
        job = job.get_subset(
            asset_selection=set(request.asset_selection),
            asset_check_selection=set(request.asset_check_keys or []),
        )
    with home_instance() as instance:
        return job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            tags={**request.tags, RUN_KEY_TAG: request.run_key},
            raise_on_error=False,
        )


def layers_passed(result: dg.ExecuteInProcessResult) -> list[bool]:
    return [e.passed for e in result.get_asset_check_evaluations() if e.check_name == LAYERS_AGREE]


def layers_verdict(loaded: Load) -> list[bool]:
    """What each tenant x month run's `layers_agree` check said of its month."""
    tenant_months = [r for r in loaded.reports if r.org_id == "alpha"]
    return [c.passed for r in tenant_months for c in r.checks if c.name == LAYERS_AGREE]


def totals(sql: str) -> tuple[int, Decimal]:
    (row,) = query("alpha", sql)
    return int(row["n"]), Decimal(row["cost"]).quantize(Decimal("1e-10"))


def expect(delivery: GeneratedDelivery) -> None:
    exact = (delivery.rows, delivery.unblended_total.quantize(Decimal("1e-10")))
    assert totals(RAW_TOTALS) == exact
    assert totals(DAILY_TOTALS) == exact


@pytest.fixture
def loaded(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> GeneratedDelivery:
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    first = generate_month(tmp_path / "alpha", month=SEPTEMBER, rows=5000, fmt="legacy", seed=4)
    assert load().ok
    return first


def restate(tmp_path: Path) -> GeneratedDelivery:
    return generate_month(tmp_path / "alpha", month=SEPTEMBER, rows=7000, fmt="legacy", seed=5)


def disk_full_while_registering_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    upsert = LocalCatalog.upsert_partition

    def full(self: LocalCatalog, database: str, table: str, partition: CatalogPartition) -> None:
        if table == RAW_TABLE:
            raise OSError(errno.ENOSPC, "No space left on device")
        upsert(self, database, table, partition)

    monkeypatch.setattr(LocalCatalog, "upsert_partition", full)


def test_a_run_ends_with_its_layers_agreeing_and_the_sensor_requests_nothing(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    months = [dt.date(2026, 8, 1), SEPTEMBER]  # one run over both: a single-run backfill
    for month in months:
        generate_month(tmp_path / "alpha", month=month, rows=2000, fmt="cur2", seed=month.month)
    loaded = load()
    assert loaded.ok
    assert loaded.reports[0].run_id == loaded.reports[1].run_id
    assert layers_verdict(loaded) == [True, True]
    ticks = Ticks()
    assert ticks.tick() == []
    assert ticks.open_incidents() == set()


def test_a_full_disk_while_registering_raw_is_detected_and_repaired(
    loaded: GeneratedDelivery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = Ticks()
    assert ticks.tick() == []
    restated = restate(tmp_path)
    with monkeypatch.context() as patch:
        disk_full_while_registering_raw(patch)
        failed = load()
    assert not failed.ok
    assert "No space left on device" in str([r.error for r in failed.reports])
    # What the issue saw: cost_daily still at the old delivery, raw already at the new one.
    assert totals(DAILY_TOTALS)[0] == loaded.rows

    (request,) = ticks.tick()
    assert request.partition_key == KEY
    assert "the raw month's files are not those tb_cur_raw registered" in request.tags[REPAIR_TAG]
    assert request.asset_selection is None  # raw disagrees: the whole tenant x month job
    assert ticks.tick() == []  # one request per incident

    repaired = execute(request)
    assert repaired.success
    assert layers_passed(repaired) == [True]
    expect(restated)
    assert ticks.tick() == []
    assert ticks.open_incidents() == set()


def test_curated_tables_built_from_an_older_raw_version_are_detected(
    loaded: GeneratedDelivery, tmp_path: Path
) -> None:
    restated = restate(tmp_path)
    defs = build_definitions(load_settings())
    with home_instance() as instance:
        result = dg.materialize(
            assets=list(defs.assets or []),
            resources=defs.resources,
            instance=instance,
            partition_key=KEY,
            selection=dg.AssetSelection.groups("raw", "catalog"),
        )
    assert result.success
    request = one_request()
    text = request.tags[REPAIR_TAG]
    for table in (
        "cost_daily",
        "cost_by_tag",
        "cost_by_workload",
        "cost_anomalies",
        "cost_forecast",
    ):
        assert f"{table} was built from tb_cur_raw version" in text
    assert "cost_monthly_summary" not in text  # built from cost_daily, which did not change
    assert "focus_cost" not in text  # a view: it reads tb_cur_raw as it is now
    # The repair rebuilds the stale tables and what is built from them, not the raw month.
    assert sorted(k.to_user_string() for k in request.asset_selection or []) == [
        "cost_anomalies",
        "cost_by_tag",
        "cost_by_workload",
        "cost_daily",
        "cost_forecast",
        "cost_monthly_summary",
    ]
    repaired = execute(request)
    assert repaired.success
    assert TB_CUR_RAW not in {m.asset_key for m in repaired.get_asset_materialization_events()}
    assert layers_passed(repaired) == [True]
    expect(restated)
    assert Ticks().tick() == []


def test_a_stale_central_mirror_is_detected(loaded: GeneratedDelivery) -> None:
    settings = load_settings()
    catalog = build_resources(settings)["catalog"]
    central = settings.environment.central_database
    values = partition_values(SEPTEMBER, "alpha")
    (mirror,) = [p for p in catalog.list_partitions(central, "cost_daily") if p.values == values]
    stale = mirror.model_copy(update={"parameters": {**mirror.parameters, "published_files": "{}"}})
    catalog.upsert_partition(central, "cost_daily", stale)
    request = one_request()
    assert "the central cost_daily mirrors version" in request.tags[REPAIR_TAG]
    # cost_daily and every table built from it (a new cost_daily makes theirs stale).
    assert {k.to_user_string() for k in request.asset_selection or []} == {
        "cost_anomalies",
        "cost_by_tag",
        "cost_daily",
        "cost_forecast",
        "cost_monthly_summary",
    }
    repaired = execute(request)
    assert repaired.success and layers_passed(repaired) == [True]
    assert Ticks().tick() == []


def one_request() -> dg.RunRequest:
    """The one run a fresh sensor requests (of September)."""
    (request,) = Ticks().tick()
    assert request.partition_key == KEY
    return request


def test_a_file_dropped_into_the_raw_month_is_not_summed_and_is_repaired(
    loaded: GeneratedDelivery, finops_home: Path
) -> None:
    settings = load_settings()
    store = build_resources(settings)["store"]
    folder = store.local_path(raw_month(settings.environment.lake_root, "alpha", SEPTEMBER))
    (part,) = folder.glob("*.parquet")
    shutil.copy(part, folder / "evil.parquet")
    expect(loaded)  # readers read the files tb_cur_raw registered, not the copy
    assert "evil.parquet" in one_request().tags[REPAIR_TAG]
    assert load(months=[SEPTEMBER]).ok
    assert not (folder / "evil.parquet").exists()
    expect(loaded)


def drop_copy_into_raw_month() -> None:
    settings = load_settings()
    store = build_resources(settings)["store"]
    folder = store.local_path(raw_month(settings.environment.lake_root, "alpha", SEPTEMBER))
    (part,) = [p for p in folder.glob("*.parquet") if p.name != "evil.parquet"]
    shutil.copy(part, folder / "evil.parquet")


def test_the_same_incident_again_after_a_good_repair_gets_a_repair_of_its_own(
    loaded: GeneratedDelivery,
) -> None:
    """Same files, same names, same text: the second incident must not reuse the first's run
    key (Dagster would drop the request and the month would disagree silently)."""
    ticks = Ticks()
    drop_copy_into_raw_month()
    (first,) = ticks.tick()
    assert layers_passed(execute(first)) == [True]
    drop_copy_into_raw_month()  # again, before any tick saw the month whole
    (second,) = ticks.tick()
    assert second.tags[REPAIR_TAG] == first.tags[REPAIR_TAG]
    assert second.run_key != first.run_key
    assert layers_passed(execute(second)) == [True]
    assert ticks.tick() == []
    drop_copy_into_raw_month()  # and once more, after a tick saw it whole
    (third,) = ticks.tick()
    assert third.run_key not in {first.run_key, second.run_key}


def test_a_failed_repair_is_not_requested_again(
    loaded: GeneratedDelivery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repair that fails (the disk is still full) leaves the month disagreeing anew (on S3,
    with yet another raw version): no second request, tick after tick, until a run of the
    month brings its layers together."""
    restated = restate(tmp_path)
    with monkeypatch.context() as patch:
        disk_full_while_registering_raw(patch)
        assert not load().ok
        ticks = Ticks()
        (request,) = ticks.tick()
        assert not execute(request).success
        assert ticks.tick() == []
        assert ticks.tick() == []
    assert ticks.open_incidents() == {KEY}
    assert load(months=[SEPTEMBER]).ok  # a person runs the month once the disk has room
    expect(restated)
    assert ticks.tick() == []
    assert ticks.open_incidents() == set()


def test_repairs_beyond_the_cap_of_a_tick_are_requested_on_the_next(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    months = [dt.date(2026, 8, 1), SEPTEMBER]
    for month in months:
        generate_month(tmp_path / "alpha", month=month, rows=1000, fmt="cur2", seed=month.month)
    assert load().ok
    settings = load_settings()
    store = build_resources(settings)["store"]
    for month in months:
        folder = store.local_path(raw_month(settings.environment.lake_root, "alpha", month))
        (part,) = folder.glob("*.parquet")
        shutil.copy(part, folder / "evil.parquet")
    monkeypatch.setattr(sensors, "MAX_REPAIRS_PER_TICK", 1)
    ticks = Ticks()
    (first,) = ticks.tick()
    (second,) = ticks.tick()  # the one deferred, not the first again
    assert {first.partition_key, second.partition_key} == {
        str(partition_key("alpha", m)) for m in months
    }
    assert ticks.tick() == []
    assert ticks.open_incidents() == {first.partition_key, second.partition_key}


def test_parameters_the_pipeline_does_not_write_change_no_version(
    loaded: GeneratedDelivery,
) -> None:
    """A Glue crawler or a person adding table parameters to tb_cur_raw's partition is not a
    new version: the curated tables built from it still agree."""
    settings = load_settings()
    catalog = build_resources(settings)["catalog"]
    database = settings.tenants.get("alpha").database
    values = partition_values(SEPTEMBER, "alpha")
    (raw,) = [p for p in catalog.list_partitions(database, RAW_TABLE) if p.values == values]
    crawled = {**raw.parameters, "classification": "parquet", "UPDATED_BY_CRAWLER": "cur"}
    catalog.upsert_partition(database, RAW_TABLE, raw.model_copy(update={"parameters": crawled}))
    assert Ticks().tick() == []


def test_each_tick_compares_recent_months_and_older_ones_in_turn() -> None:
    current = current_month()
    months = [shift_month(current, -n) for n in range(20, -1, -1)]  # 21 months, oldest first
    first = months[0]
    seen: set[dt.date] = set()
    for rotation in range(3):  # 19 older months, 6 a tick: all within 4 ticks
        compared = months_to_compare(months, first, rotation, set())
        assert {current, shift_month(current, -1)} <= set(compared)
        assert len(compared) == 2 + OLDER_MONTHS_PER_TICK
        seen |= set(compared)
    assert len(seen) == 2 + 3 * OLDER_MONTHS_PER_TICK
    seen |= set(months_to_compare(months, first, 3, set()))
    assert seen == set(months)
    flagged = {months[0]}  # a month with an open incident is compared every tick
    assert all(months[0] in months_to_compare(months, first, r, flagged) for r in range(4))


def test_a_month_being_run_is_left_alone(
    loaded: GeneratedDelivery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restate(tmp_path)
    with monkeypatch.context() as patch:
        disk_full_while_registering_raw(patch)
        assert not load().ok
    with home_instance() as instance:
        running = instance.create_run_for_job(
            build_definitions(load_settings()).resolve_job_def("tenant_month_refresh"),
            tags={PARTITION_TAG: KEY},
            status=dg.DagsterRunStatus.STARTED,
        )
    ticks = Ticks()
    assert ticks.tick() == []  # mid-run, layers differ
    with home_instance() as instance:
        instance.report_run_failed(instance.get_run_by_id(running.run_id))
    assert [r.partition_key for r in ticks.tick()] == [KEY]


def test_a_month_whose_run_starts_while_the_tick_compares_is_left_alone(
    loaded: GeneratedDelivery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick reads the runs in progress before it compares and again after: a run that
    started in between (its layers caught mid-way) gets no repair on top of it."""
    restate(tmp_path)
    with monkeypatch.context() as patch:
        disk_full_while_registering_raw(patch)
        assert not load().ok
    compare = TenantLayers.month
    started: list[str] = []

    def a_run_starts(self: TenantLayers, month: dt.date) -> MonthLayers:
        if not started:
            with home_instance() as instance:
                run = instance.create_run_for_job(
                    build_definitions(load_settings()).resolve_job_def("tenant_month_refresh"),
                    tags={PARTITION_TAG: KEY},
                    status=dg.DagsterRunStatus.STARTED,
                )
            started.append(run.run_id)
        return compare(self, month)

    monkeypatch.setattr(TenantLayers, "month", a_run_starts)
    assert Ticks().tick() == []
    assert started


def test_a_run_whose_layers_still_disagree_fails_the_check(
    loaded: GeneratedDelivery, tmp_path: Path
) -> None:
    """A curated table that kept its old version (here: cost_by_tag's partition removed from
    the catalog after its step) leaves the run's last step failing, naming the table."""
    settings = load_settings()
    catalog = build_resources(settings)["catalog"]
    catalog.delete_partition(
        settings.tenants.get("alpha").database, "cost_by_tag", partition_values(SEPTEMBER, "alpha")
    )
    defs = build_definitions(settings)
    job = dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=[
            dg.define_asset_job(
                "layers",
                selection=dg.AssetSelection.checks(dg.AssetCheckKey(TB_CUR_RAW, LAYERS_AGREE)),
            )
        ],
        resources=defs.resources,
    ).resolve_job_def("layers")
    with home_instance() as instance:
        result = job.execute_in_process(instance=instance, tags={PARTITION_TAG: KEY})
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert "cost_by_tag has no partition built from the registered raw month" in (
        evaluation.description
    )


def test_on_s3_a_newer_raw_version_the_catalog_never_registered_is_found(
    aws: str, tmp_path: Path
) -> None:
    """S3 keeps versions side by side: raw_cur's newer version, published while tb_cur_raw's
    registration failed, is not the one registered; a file added to the registered version is
    named (moto over HTTP, a local catalog)."""
    boto3.client("s3").create_bucket(Bucket="lake")
    store = S3ObjectStore(region="us-east-1")
    catalog = LocalCatalog(root=str(tmp_path / "catalog"))
    tenant = TenantConfig(org_id="alpha", source_path="s3://lake/cur/alpha/")
    month = raw_month("s3://lake/", "alpha", SEPTEMBER)

    def publish(rows: int) -> str:
        folder = tmp_path / f"v{rows}"
        folder.mkdir()
        pq.write_table(pa.table({"x": list(range(rows))}), folder / "part-0.parquet")
        return store.publish(folder, month)

    def verdict() -> MonthLayers:
        return TenantLayers(store, catalog, tenant, "s3://lake/", [], {}).month(SEPTEMBER)

    old = publish(3)
    catalog.upsert_table(raw_table(tenant, "s3://lake/"))
    registered = CatalogPartition(
        values=partition_values(SEPTEMBER, "alpha"),
        location=old,
        parameters=published_files_parameter({"part-0.parquet": store.list_objects(old)[0].size}),
    )
    catalog.upsert_partition(tenant.database, RAW_TABLE, registered)
    assert verdict().agree, verdict().problems
    # A file put into the registered version out of band (Athena would read it): named.
    bucket, key = old.removeprefix("s3://").split("/", 1)
    boto3.client("s3").put_object(Bucket=bucket, Key=key + "evil.parquet", Body=b"PAR1")
    (problem,) = verdict().problems
    assert "tb_cur_raw registered" in problem and "evil.parquet" in problem
    boto3.client("s3").delete_object(Bucket=bucket, Key=key + "evil.parquet")
    assert verdict().agree
    new = publish(5)
    assert verdict().problems == (f"the store's raw month is {new} but tb_cur_raw registers {old}",)


def test_only_runs_of_a_dead_finops_run_process_are_marked_failed(
    loaded: GeneratedDelivery, tmp_path: Path
) -> None:
    """A run still in progress whose `finops run` holds its lock is left alone; once nothing
    holds it (the process died), the sensor's cleanup reports it failed."""
    job = build_definitions(load_settings()).resolve_job_def("tenant_month_refresh")
    with home_instance() as instance, process_lock(tmp_path / "locks") as tags:
        running = instance.create_run_for_job(
            job, tags={**tags, PARTITION_TAG: KEY}, status=dg.DagsterRunStatus.STARTED
        )
        other_host = instance.create_run_for_job(
            job,
            tags={**tags, HOST_TAG: "elsewhere", PARTITION_TAG: KEY},
            status=dg.DagsterRunStatus.STARTED,
        )
        assert fail_dead_runs(instance) == []  # its process is alive: this one
    with home_instance() as instance:
        assert fail_dead_runs(instance) == [running.run_id]
        assert instance.get_run_by_id(running.run_id).status == dg.DagsterRunStatus.FAILURE
        # Another host's lock cannot be judged from here.
        assert instance.get_run_by_id(other_host.run_id).status == dg.DagsterRunStatus.STARTED
