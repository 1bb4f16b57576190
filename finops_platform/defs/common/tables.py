"""The catalog's tables: names, locations and partitions, the same for every backend.

Tenant tables (`tb_cur_raw` and the curated ones) live in the tenant's database
`custos_<org>_db`, partitioned by org, year and month; the central database holds the cross-org
tables, partitioned by year and month.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa

from finops_platform.lake import (
    MONTH_LEVELS,
    RAW_TABLE,
    curated_location,
    month_of,
    month_of_prefix,
    partition_location,
    partition_values,
    raw_table_location,
)
from finops_platform.lib.catalog import (
    Catalog,
    CatalogEntryError,
    CatalogPartition,
    CatalogTable,
)
from finops_platform.lib.catalog.base import (
    INGEST_MODE,
    PUBLISHED_FILES,
    SUPPLIED_COLUMNS,
    published_files_parameter,
)
from finops_platform.lib.catalog.types import glue_type
from finops_platform.lib.cur.columns import column_descriptions
from finops_platform.lib.cur.schema import CANONICAL_SCHEMA, PARTITION_COLUMNS
from finops_platform.lib.engine.base import PartitionWrite, QueryEngine
from finops_platform.lib.store import Leftover, ObjectStore
from finops_platform.settings import TenantConfig

TENANT_PARTITION_KEYS = {name: glue_type(kind) for name, kind in PARTITION_COLUMNS.items()}
MONTH_PARTITION_KEYS = {"year": "int", "month": "int"}


def column_schema(schema: pa.Schema, table: str = RAW_TABLE) -> dg.TableSchema:
    """A table's columns as Dagster metadata, shown in the UI, with the meaning of those the
    README documents (lib/cur/columns.py)."""
    described = column_descriptions(table)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(field.name, str(field.type), description=described.get(field.name))
            for field in schema
        ]
    )


def raw_table(tenant: TenantConfig, lake_root: str) -> CatalogTable:
    return CatalogTable(
        database=tenant.database,
        name=RAW_TABLE,
        location=raw_table_location(lake_root, tenant.org_id),
        columns={field.name: glue_type(field.type) for field in CANONICAL_SCHEMA},
        partition_keys=TENANT_PARTITION_KEYS,
    )


def curated_table(
    database: str, name: str, lake_root: str, schema: pa.Schema, org_id: str | None = None
) -> CatalogTable:
    """A curated table: a tenant's (with org_id) or a central one (without)."""
    return CatalogTable(
        database=database,
        name=name,
        location=curated_location(lake_root, name, org_id),
        columns={field.name: glue_type(field.type) for field in schema},
        partition_keys=TENANT_PARTITION_KEYS if org_id else MONTH_PARTITION_KEYS,
    )


def registered_partition(
    catalog: Catalog, database: str, table: str, values: dict[str, str]
) -> CatalogPartition | None:
    """The registered partition of `table` with these key values, if any."""
    for partition in catalog.list_partitions(database, table):
        if partition.values == values:
            return partition
    return None


def raw_table_partition(
    catalog: Catalog, tenant: TenantConfig, month: dt.date
) -> CatalogPartition | None:
    """The registered partition of `tenant`'s `month` in tb_cur_raw, if any."""
    return registered_partition(
        catalog, tenant.database, RAW_TABLE, partition_values(month, tenant.org_id)
    )


# The parameter of a curated partition that records, per upstream catalog table, the
# fingerprint of the upstream partition it was built from (defs/consistency compares them).
BUILT_FROM = "built_from"
# The parameters the pipeline writes that identify a version: the published files and their
# sizes, a raw month's profile, ingest mode and supplied lineage (defs/catalog/assets.py) and
# what a curated one was built from. Others (a Glue crawler's or a person's) are left out:
# rewriting them changes no version.
VERSION_PARAMETERS = (
    PUBLISHED_FILES,
    "row_count",
    "assembly_id",
    "max_usage_start",
    INGEST_MODE,
    SUPPLIED_COLUMNS,
    BUILT_FROM,
)


def fingerprint(partition: CatalogPartition) -> str:
    """A short digest of the version a catalog entry registers: its location and the
    pipeline's own parameters. Any republication changes it (a local month keeps its location,
    but not its files, profile or upstreams), so a table built from an upstream records the
    upstream's fingerprint to say which version it was built from."""
    own = {k: v for k, v in partition.parameters.items() if k in VERSION_PARAMETERS}
    identity = json.dumps([partition.location, own], sort_keys=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def upstream_fingerprints(
    catalog: Catalog, database: str, tables: list[str], values: dict[str, str]
) -> dict[str, str]:
    """The fingerprints of the registered partitions of `tables` with these key values, to be
    recorded as what a table built from them was built from (a missing one is left out)."""
    found = {}
    for table in tables:
        partition = registered_partition(catalog, database, table, values)
        if partition is not None:
            found[table] = fingerprint(partition)
    return found


def built_from(partition: CatalogPartition) -> dict[str, str] | None:
    """What `partition` records it was built from; None for an entry written before it was
    recorded (nothing to compare)."""
    recorded = partition.parameters.get(BUILT_FROM)
    return None if recorded is None else json.loads(recorded)


@contextmanager
def replacing_partition(
    engine: QueryEngine,
    catalog: Catalog,
    store: ObjectStore,
    *,
    database: str,
    table: str,
    lake_root: str,
    month: dt.date,
    sql: str,
    org_id: str | None = None,
    upstream: dict[str, str] | None = None,
) -> Iterator[PartitionWrite]:
    """Write a query's result as the new version of one partition of a curated table and point
    the catalog at it; the caller checks it inside the context.

    Leaving the context retires the old version. An exception (a failed blocking check) puts
    back the table and partition as they were and discards the new version, so a result that
    failed its checks never replaces good data (docs/ARCHITECTURE.md: a check after the swap is
    too late). `upstream` (from `upstream_fingerprints`) is recorded as what it was built from.
    Runs of one partition take turns (`store.exclusive`), so none rolls back over another, and
    each first reclaims what killed runs of the partition left (`store.reclaim`).
    """
    location = partition_location(curated_location(lake_root, table, org_id), month)
    values = partition_values(month, org_id)
    with store.exclusive(location):
        previous_table = catalog.get_table(database, table)
        try:
            previous = registered_partition(catalog, database, table, values)
        except CatalogEntryError:
            previous = None  # unreadable: this run writes the entry anew
        # What killed runs of this partition left: reclaimed now that none of them can be writing.
        store.reclaim(location, live=previous.location if previous else None)
        written = engine.write_partition(database, sql, location)
        try:
            catalog.upsert_table(curated_table(database, table, lake_root, written.schema, org_id))
            catalog.upsert_partition(
                database,
                table,
                CatalogPartition(
                    values=values,
                    location=written.location,
                    parameters={
                        **published_files_parameter(written.files),
                        **({BUILT_FROM: json.dumps(upstream, sort_keys=True)} if upstream else {}),
                    },
                ),
            )
            yield written
        except BaseException:
            if previous_table is not None:
                catalog.upsert_table(previous_table)
            if previous is not None:
                catalog.upsert_partition(database, table, previous)
            else:
                catalog.delete_partition(database, table, values)
            store.discard(location, written.location)
            raise
        store.retire(location, keep=written.location)


@contextmanager
def replacing_view(
    engine: QueryEngine,
    catalog: Catalog,
    store: ObjectStore,
    *,
    database: str,
    name: str,
    lake_root: str,
    sql: str,
    org_id: str,
) -> Iterator[pa.Schema]:
    """Define `name` in `database` as a view of `sql` (a query over the whole database, which
    readers filter by partition) and yield its columns; the caller checks it inside the context.

    An exception (a failed blocking check, or a query that does not bind) puts back what the
    catalog had under that name: the previous view, or nothing. A table by that name (how
    focus_cost was kept before it became a view) is unregistered first, as Athena replaces only
    a view with a view, and registered again with its partitions if the view fails; its files
    stay where they are. Definitions of one table take turns (`store.exclusive`), so none puts
    back a definition over another's.
    """
    with store.exclusive(curated_location(lake_root, name, org_id)):
        try:
            previous = catalog.get_table(database, name)
        except CatalogEntryError:
            previous = None  # unreadable: defined anew
        partitions = []
        if previous is not None and not previous.is_view:
            partitions = catalog.list_partitions(database, name)
            catalog.delete_table(database, name)
        try:
            yield engine.define_view(database, name, sql)
        except BaseException:
            if previous is None:
                catalog.delete_table(database, name)
            elif previous.view_sql is not None:
                engine.define_view(database, name, previous.view_sql)
            else:
                catalog.upsert_table(previous)
                for partition in partitions:
                    catalog.upsert_partition(database, name, partition)
            raise


@dataclass(frozen=True)
class Reclaimed:
    """A leftover of one partition of a catalog table, removed or (dry run) to be removed."""

    database: str
    table: str
    month: dt.date
    leftover: Leftover


def reclaim_database(
    catalog: Catalog, store: ObjectStore, database: str, *, dry_run: bool = False
) -> list[Reclaimed]:
    """What killed runs left beside the month partitions of `database`'s tables, removed
    unless `dry_run`: registered months, and months the store holds something of that the
    catalog never registered (a first run killed before registering). Each partition is
    reclaimed under its own lock, so a run writing it meanwhile is waited for, never raced; the
    version the catalog registers is kept, and of an unregistered month every complete one."""
    found = []
    for table in catalog.list_tables(database):
        if not {"year", "month"} <= set(table.partition_keys):
            continue
        live: dict[dt.date, str | None] = {}
        for partition in catalog.list_partitions(database, table.name):
            month = month_of(partition.values)
            if partition.location.startswith(partition_location(table.location, month)):
                live[month] = partition.location  # not a central mirror of a tenant's month
        seen = store.stored_prefixes(table.location, MONTH_LEVELS)
        for month in {m for m in map(month_of_prefix, seen) if m is not None} - set(live):
            live[month] = None
        for month, version in sorted(live.items()):
            location = partition_location(table.location, month)
            with store.exclusive(location):
                leftovers = store.reclaim(location, live=version, dry_run=dry_run)
            found += [Reclaimed(database, table.name, month, left) for left in leftovers]
    return found


def table_metadata(database: str, table: str, written: PartitionWrite) -> dict[str, object]:
    """The Dagster metadata of a written table partition."""
    return {
        "dagster/table_name": f"{database}.{table}",
        "dagster/row_count": written.rows,
        "dagster/uri": written.location,
        "dagster/column_schema": column_schema(written.schema, table),
        "bytes": written.bytes,
    }


def unpublished_files(store: ObjectStore, partition: CatalogPartition) -> list[str]:
    """Files under a registered partition that are not as the pipeline published them: added
    out of band, rewritten to another size, or missing. DuckDB reads only the published list,
    but Athena reads the whole location, so a check must catch these. Empty for an entry
    without a recorded list (registered before lists were recorded): nothing to compare."""
    published = partition.published_files()
    if published is None:
        return []
    prefix = partition.location.rstrip("/") + "/"
    found = {
        o.uri.removeprefix(prefix): o.size
        for o in store.list_objects(partition.location)
        if not o.uri.rsplit("/", 1)[-1].startswith((".", "_"))  # Athena skips these too
    }
    return sorted(n for n in found.keys() | published.keys() if found.get(n) != published.get(n))
