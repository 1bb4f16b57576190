"""Curated partition versions on S3 + Glue (moto over HTTP): a result that fails its checks is
rolled back, runs of one partition take turns, and the central mirror follows a rebuild.

moto runs no SQL, so Athena's UNLOAD is stood in for by `UnloadStandIn`, which publishes a
fixed table as the new version the way the Athena engine's write does; everything around it
(`replacing_partition`, the S3 store, the Glue catalog, the mirror) is the real code.
"""

import datetime as dt
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.defs.common.mirror import follow_tenant_partition, mirror_tenant_partition
from finops_platform.defs.common.tables import partition_values, replacing_partition
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.engine.base import PartitionWrite
from finops_platform.lib.store import s3 as s3_store
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.settings import TenantConfig

MONTH = dt.date(2026, 10, 1)
LAKE = "s3://lake/"
CENTRAL = "custos_central_db"
TENANT = TenantConfig(org_id="aa", source_path="s3://src/aa/")
VALUES = partition_values(MONTH, TENANT.org_id)


class UnloadStandIn:
    """Publishes `table` as the partition's new version, as Athena's UNLOAD then the engine do."""

    def __init__(self, store: S3ObjectStore, table: pa.Table) -> None:
        self.store, self.table = store, table

    def write_partition(self, database: str, athena_select: str, location: str) -> PartitionWrite:
        with tempfile.TemporaryDirectory() as folder:
            pq.write_table(self.table, Path(folder) / "part-0.parquet")
            version = self.store.publish(Path(folder), location)
        return PartitionWrite(version, self.table.num_rows, 0, self.table.schema)


@pytest.fixture
def lake(aws: str) -> Iterator[tuple[S3ObjectStore, GlueCatalog]]:
    boto3.client("s3").create_bucket(Bucket="lake")
    store, catalog = S3ObjectStore(region="us-east-1"), GlueCatalog(region="us-east-1")
    for database in (TENANT.database, CENTRAL):
        catalog.ensure_database(database)
    yield store, catalog


def build(store: S3ObjectStore, catalog: GlueCatalog, table: pa.Table, passes: bool = True) -> str:
    """One cost_daily build of the tenant's month, as the curated asset does it."""
    with replacing_partition(
        UnloadStandIn(store, table),
        catalog,
        store,
        database=TENANT.database,
        table="cost_daily",
        lake_root=LAKE,
        month=MONTH,
        sql="SELECT 1",
        org_id=TENANT.org_id,
    ) as written:
        if not passes:
            raise RuntimeError("a blocking check failed")
        follow_tenant_partition(catalog, CENTRAL, LAKE, TENANT, MONTH)
    return written.location


def registered(catalog: GlueCatalog, database: str = TENANT.database) -> list[str]:
    return [p.location for p in catalog.list_partitions(database, "cost_daily")]


def test_a_result_failing_its_checks_is_rolled_back(
    lake: tuple[S3ObjectStore, GlueCatalog],
) -> None:
    store, catalog = lake
    with pytest.raises(RuntimeError):
        build(store, catalog, pa.table({"cost": [9.0]}), passes=False)
    assert registered(catalog) == []  # a first result that failed is not left registered
    good = build(store, catalog, pa.table({"cost": [1.0]}))
    wider = pa.table({"cost": [2.0], "extra": ["x"]})
    with pytest.raises(RuntimeError):
        build(store, catalog, wider, passes=False)
    assert registered(catalog) == [good] and store.parquet_rows(good) == 1
    assert list(catalog.get_table(TENANT.database, "cost_daily").columns) == ["cost"]
    month = good.rsplit("/", 2)[0] + "/"
    assert {o.uri.removeprefix(month).split("/")[0] for o in store.list_objects(month)} == {
        good.removeprefix(month).rstrip("/")
    }  # the failed version is gone


def test_the_central_mirror_follows_a_tenants_rebuild(
    lake: tuple[S3ObjectStore, GlueCatalog],
) -> None:
    store, catalog = lake
    first = build(store, catalog, pa.table({"cost": [1.0]}))
    assert catalog.get_table(CENTRAL, "cost_daily") is None  # no mirror until cross-org runs
    assert mirror_tenant_partition(catalog, CENTRAL, LAKE, TENANT, MONTH)
    assert registered(catalog, CENTRAL) == [first]
    second = build(store, catalog, pa.table({"cost": [2.0]}))
    assert registered(catalog, CENTRAL) == [second] != [first]
    assert catalog.list_partitions(CENTRAL, "cost_daily")[0].values == VALUES
    assert store.parquet_rows(second) == 1 and not store.list_objects(first)


def test_runs_of_one_partition_take_turns(
    lake: tuple[S3ObjectStore, GlueCatalog], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = lake
    month = "s3://lake/custos/curated/cost_daily/org=aa/year=2026/month=10/"
    impatient = S3ObjectStore(region="us-east-1", lock_wait_seconds=0.5, lock_poll_seconds=0.1)
    with store.exclusive(month):
        with (
            pytest.raises(TimeoutError, match="another run has been replacing"),
            impatient.exclusive(month),
        ):
            pass
        entered = threading.Event()

        def second_run() -> None:
            with store.exclusive(month):
                entered.set()

        waiting = threading.Thread(target=second_run)
        waiting.start()
        assert not entered.wait(0.5)  # blocked while the first run holds the partition
    waiting.join(timeout=30)
    assert entered.is_set()  # and in once it is released
    # A lock left by a killed run is taken over once its lease has passed.
    boto3.client("s3").put_object(Bucket="lake", Key=month[len("s3://lake/") :] + "_lock")
    monkeypatch.setattr(s3_store, "LOCK_LEASE", dt.timedelta(0))
    with impatient.exclusive(month):
        pass
    # A lock held for seconds (a tenant's registration) is given a short lease of its own.
    monkeypatch.setattr(s3_store, "LOCK_LEASE", dt.timedelta(hours=2))
    boto3.client("s3").put_object(Bucket="lake", Key=month[len("s3://lake/") :] + "_lock")
    with pytest.raises(TimeoutError), impatient.exclusive(month):
        pass
    with impatient.exclusive(month, lease=dt.timedelta(0)):
        pass
