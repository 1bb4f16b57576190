"""The central cost_daily follows a tenant's rebuilt partition on S3 + Glue (moto over HTTP):
a rebuild retires the old version, which the mirror must no longer point at."""

import datetime as dt
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

from finops_platform.defs.catalog.tables import (
    curated_location,
    curated_table,
    partition_location,
    partition_values,
)
from finops_platform.defs.cross_org.mirror import follow_tenant_partition, mirror_tenant_partition
from finops_platform.lib.catalog import CatalogPartition
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.settings import TenantConfig

MONTH = dt.date(2026, 10, 1)
LAKE = "s3://lake/"
CENTRAL = "custos_central_db"
TENANT = TenantConfig(org_id="aa", source_path="s3://src/aa/")


def rebuild(store: S3ObjectStore, catalog: GlueCatalog, folder: Path, cost: float) -> str:
    """What a tenant's cost_daily build does on S3: a new version, registered, then the old one
    retired; `follow_tenant_partition` runs between the two, as the curated asset calls it."""
    location = partition_location(curated_location(LAKE, "cost_daily", TENANT.org_id), MONTH)
    folder.mkdir()
    table = pa.table({"unblended_cost": [cost]})
    pq.write_table(table, folder / "part-0.parquet")
    version = store.publish(folder, location)
    catalog.upsert_table(
        curated_table(TENANT.database, "cost_daily", LAKE, table.schema, TENANT.org_id)
    )
    values = partition_values(MONTH, TENANT.org_id)
    catalog.upsert_partition(
        TENANT.database, "cost_daily", CatalogPartition(values=values, location=version)
    )
    follow_tenant_partition(catalog, CENTRAL, LAKE, TENANT, MONTH)
    store.retire(location, keep=version)
    return version


def test_the_central_mirror_follows_a_tenants_rebuild(aws: str, tmp_path: Path) -> None:
    boto3.client("s3").create_bucket(Bucket="lake")
    store, catalog = S3ObjectStore(region="us-east-1"), GlueCatalog(region="us-east-1")
    for database in (TENANT.database, CENTRAL):
        catalog.ensure_database(database)
    first = rebuild(store, catalog, tmp_path / "first", 1.0)
    assert catalog.get_table(CENTRAL, "cost_daily") is None  # no mirror until cross-org runs
    assert mirror_tenant_partition(catalog, CENTRAL, LAKE, TENANT, MONTH)
    (mirrored,) = catalog.list_partitions(CENTRAL, "cost_daily")
    assert mirrored.location == first
    second = rebuild(store, catalog, tmp_path / "second", 2.0)
    (mirrored,) = catalog.list_partitions(CENTRAL, "cost_daily")
    assert mirrored.location == second != first
    assert mirrored.values == {"org": "aa", "year": "2026", "month": "10"}
    assert store.parquet_rows(mirrored.location) == 1 and not store.list_objects(first)
