"""Issue 16, case 3.2: what killed runs leave behind is reclaimed.

A killed run leaves its staging copy (`custos/_staging/...`) and, on S3, versions the catalog
never registered. They are made here the way a killed run makes them: a staging folder entered
and left without publishing, a real staged folder copied aside, a version folder next to the
live one. The next run of the partition reclaims them, `finops gc` reclaims them for all, and
the live version and every total stay as they were.
"""

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.defs.common.tables import reclaim_database
from finops_platform.lake import (
    REPLACED,
    STAGING,
    beside_lake,
    curated_location,
    partition_location,
    raw_month,
)
from finops_platform.lib.catalog import CatalogTable, LocalCatalog
from finops_platform.lib.store import LocalObjectStore, ObjectStore
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.resources import build_resources
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load, query

OCTOBER = dt.date(2018, 10, 1)
NEVER_LOADED = dt.date(2018, 11, 1)
TOTALS = (
    "SELECT sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS raw, count(*) AS n "
    "FROM tb_cur_raw",
    "SELECT sum(CAST(unblended_cost AS DECIMAL(38, 10))) AS daily FROM cost_daily",
)


def finops(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def store_and_lake() -> tuple[ObjectStore, str]:
    settings = load_settings()
    return build_resources(settings)["store"], settings.environment.lake_root


def kill_inside_staging(store: ObjectStore, final_uri: str, rows: int) -> Path:
    """A run that wrote a Parquet file into its staging folder and died before publishing.
    Leaving `staging_dir` by an exception removes the folder, so the folder is copied aside
    first, as it stood when the process was killed (a SIGKILL runs no cleanup)."""
    with pytest.raises(RuntimeError), store.staging_dir(final_uri) as staged:
        pq.write_table(pa.table({"x": list(range(rows))}), staged / "part-0.parquet")
        orphan = staged.with_name(staged.name + "-killed")
        shutil.copytree(staged, orphan)
        raise RuntimeError("killed")
    assert orphan.is_dir()
    return orphan


def totals(org_id: str) -> list[dict]:
    return [row for sql in TOTALS for row in query(org_id, sql)]


@pytest.fixture
def two_tenants(
    real_sample: Path, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> Path:
    shutil.copytree(real_sample, tmp_path / "other")
    write_config(
        [
            tenant_entry("alpha", real_sample, first_billing_month="2018-10"),
            tenant_entry("beta", tmp_path / "other", first_billing_month="2018-10"),
        ]
    )
    loaded = load(months=[OCTOBER])
    assert loaded.ok, [(r.org_id, r.error) for r in loaded.reports]
    return finops_home


def orphans_of_alpha() -> list[Path]:
    store, lake = store_and_lake()
    raw = raw_month(lake, "alpha", OCTOBER)
    daily = partition_location(curated_location(lake, "cost_daily", "alpha"), OCTOBER)
    return [kill_inside_staging(store, raw, 50_000), kill_inside_staging(store, daily, 20_000)]


def staging_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.rglob(f"{STAGING}/**/*") if p.is_file())


def test_a_rerun_reclaims_its_partitions_orphans(two_tenants: Path) -> None:
    before = totals("alpha")
    orphans = orphans_of_alpha()
    assert staging_bytes(two_tenants) > 100_000
    loaded = load(months=[OCTOBER])
    assert loaded.ok, [(r.org_id, r.error) for r in loaded.reports]
    assert not any(p.exists() for p in orphans)
    assert staging_bytes(two_tenants) == 0
    assert totals("alpha") == before
    assert isinstance(before[0]["raw"], Decimal) and before[0]["n"] > 0


def test_gc_dry_run_lists_then_gc_removes(two_tenants: Path) -> None:
    figures = {org: totals(org) for org in ("alpha", "beta")}
    central_sql = "SELECT sum(CAST(unblended_cost AS DECIMAL(38, 10))) AS c FROM cost_daily"
    central = query(None, central_sql)
    store, lake = store_and_lake()
    orphans = [
        *orphans_of_alpha(),
        kill_inside_staging(store, raw_month(lake, "beta", OCTOBER), 30_000),
        # A first run of a month, killed before anything of it was registered.
        kill_inside_staging(store, raw_month(lake, "alpha", NEVER_LOADED), 40_000),
        kill_inside_staging(
            store,
            partition_location(curated_location(lake, "cost_cross_org_monthly"), OCTOBER),
            10_000,
        ),
    ]
    sizes = {p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) for p in orphans}
    code, out, err = finops("gc", "--dry-run", "--format", "json")
    assert code == 0, err
    listed = json.loads(out)
    found = {row["location"].rstrip("/").rsplit("/", 1)[-1]: row for row in listed}
    assert {name: found[name]["bytes"] for name in sizes} == sizes
    assert {row["action"] for row in listed} == {"would remove"}
    assert all(p.exists() for p in orphans)
    code, out, err = finops("gc")
    assert code == 0, err
    assert out.splitlines()[-1].startswith("total")
    assert f"{sum(sizes.values()):,}" in out.splitlines()[-1]
    assert not any(p.exists() for p in orphans)
    assert staging_bytes(two_tenants) == 0
    assert {org: totals(org) for org in ("alpha", "beta")} == figures
    assert central[0]["c"] > 0 and query(None, central_sql) == central
    code, out, err = finops("gc", "--format", "json")
    assert code == 0 and json.loads(out) == [], out + err


def test_gc_rejects_an_unknown_format(two_tenants: Path) -> None:
    code, out, err = finops("gc", "--format", "xml")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "xml" in err


def test_the_live_local_version_is_never_removed(two_tenants: Path) -> None:
    store, lake = store_and_lake()
    raw = raw_month(lake, "alpha", OCTOBER)
    live = sorted(p.name for p in store.local_path(raw).iterdir())
    with store.exclusive(raw):
        assert store.reclaim(raw, live=raw) == []
    assert sorted(p.name for p in store.local_path(raw).iterdir()) == live


# The S3 store, against moto over HTTP.

MONTH = "s3://lake/custos/curated/cost_daily/org=a/year=2026/month=1/"


@pytest.fixture
def s3_store(aws: str) -> S3ObjectStore:
    boto3.client("s3").create_bucket(Bucket="lake")
    return S3ObjectStore(region="us-east-1")


def stage(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"x": list(range(rows))}), folder / "part-0.parquet")
    return folder


def unfinished(store: S3ObjectStore, tmp_path: Path, rows: int) -> str:
    """A version whose upload was killed before its `_SUCCESS` marker."""
    version = store.publish(stage(tmp_path / f"dead{rows}", rows), MONTH)
    boto3.client("s3").delete_object(
        Bucket="lake", Key=version.removeprefix("s3://lake/") + "_SUCCESS"
    )
    return version


def test_s3_reclaims_unfinished_and_old_versions_never_the_live_one(
    s3_store: S3ObjectStore, tmp_path: Path
) -> None:
    old = s3_store.publish(stage(tmp_path / "old", 7), MONTH)
    live = s3_store.publish(stage(tmp_path / "live", 3), MONTH)
    dead = unfinished(s3_store, tmp_path, 11)
    pending = s3_store.publish(stage(tmp_path / "pending", 5), MONTH)
    with s3_store.exclusive(MONTH):
        listed = s3_store.reclaim(MONTH, live=live, dry_run=True)
        assert {(x.uri, x.kind) for x in listed} == {
            (old, "old version"),
            (dead, "unfinished version"),
        }
        assert all(x.bytes > 0 for x in listed)
        assert s3_store.parquet_rows(old) == 7  # a dry run removes nothing
        assert s3_store.reclaim(MONTH, live=live) == listed
        assert s3_store.reclaim(MONTH, live=live) == []
    assert s3_store.parquet_rows(live) == 3
    assert s3_store.parquet_rows(pending) == 5  # published, awaiting registration
    assert s3_store.parquet_rows(old) == 0 and s3_store.parquet_rows(dead) == 0


def test_s3_without_a_known_live_version_keeps_every_complete_one(
    s3_store: S3ObjectStore, tmp_path: Path
) -> None:
    live = s3_store.publish(stage(tmp_path / "live", 3), MONTH)
    dead = unfinished(s3_store, tmp_path, 11)
    with s3_store.exclusive(MONTH):
        (reclaimed,) = s3_store.reclaim(MONTH, live=None)
    assert reclaimed.uri == dead
    assert s3_store.current_version(MONTH) == live and s3_store.parquet_rows(live) == 3


def test_gc_finds_an_s3_month_the_catalog_never_registered(
    s3_store: S3ObjectStore, tmp_path: Path
) -> None:
    """A first run killed mid-upload leaves an unfinished version of a month no catalog entry
    names: gc lists and removes it, and keeps the complete version beside it (a publish the
    catalog has yet to register)."""
    catalog = LocalCatalog(root=str(tmp_path / "catalog"))
    catalog.upsert_table(
        CatalogTable(
            database="db",
            name="cost_daily",
            location=MONTH.split("year=")[0],
            columns={"x": "bigint"},
            partition_keys={"year": "int", "month": "int"},
        )
    )
    complete = s3_store.publish(stage(tmp_path / "complete", 3), MONTH)
    dead = unfinished(s3_store, tmp_path, 11)
    (listed,) = reclaim_database(catalog, s3_store, "db", dry_run=True)
    assert (listed.table, listed.month, listed.leftover.uri) == (
        "cost_daily",
        dt.date(2026, 1, 1),
        dead,
    )
    assert reclaim_database(catalog, s3_store, "db") == [listed]
    assert reclaim_database(catalog, s3_store, "db") == []
    assert s3_store.current_version(MONTH) == complete and s3_store.parquet_rows(complete) == 3


# The local store's version kept aside, and a swap a killed run left half done.

LOCAL_MONTH = "s3://lake/custos/cur/org=a/year=2026/month=1/"


def test_local_reclaims_a_version_kept_aside_but_puts_back_a_half_done_swap(
    tmp_path: Path,
) -> None:
    store = LocalObjectStore(root=str(tmp_path / "buckets"))
    final = store.local_path(LOCAL_MONTH)
    replaced = beside_lake(final, REPLACED)
    final.parent.mkdir(parents=True)
    stage(replaced, 4)  # a swap killed between its two renames: only the old version is left
    with store.exclusive(LOCAL_MONTH):
        assert store.reclaim(LOCAL_MONTH, live=LOCAL_MONTH) == []
    assert pq.read_table(final / "part-0.parquet").num_rows == 4 and not replaced.exists()
    stage(replaced, 9)  # published, killed before retiring the version it replaced
    with store.exclusive(LOCAL_MONTH):
        (kept_aside,) = store.reclaim(LOCAL_MONTH, live=LOCAL_MONTH)
    assert kept_aside.kind == "replaced version" and kept_aside.bytes > 0
    assert not replaced.exists()
    assert pq.read_table(final / "part-0.parquet").num_rows == 4
