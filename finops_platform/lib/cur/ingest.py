"""Ingest one tenant x month: find the delivery, normalize it, validate it, swap it in.

The new month is built in a staging folder and validated there; only a delivery that passes
every ERROR check replaces the live month, so a failed run leaves the previous version readable.
A CUR 2.0 Parquet delivery already in the canonical row is not rewritten: its files are copied
(cloned where the file system can) into the staging folder as they are, and read with the
lineage the catalog records (lib/cur/passthrough.py); the checks and the swap are the same.

Where it runs is the backend's choice (resources.py), never the asset's: `WorkerIngest` copies
the delivery to this machine and normalizes it with in-process DuckDB (the embedded mode);
`athena_ingest.AthenaIngest` leaves it where it lies and has Athena run the same SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from finops_platform.lake import raw_month
from finops_platform.lib.catalog.base import CatalogTable, SuppliedColumns
from finops_platform.lib.catalog.types import glue_type
from finops_platform.lib.cur.csv_source import CSV_DIALECTS, csv_groups
from finops_platform.lib.cur.delivery import Delivery, DeliveryError, find_delivery
from finops_platform.lib.cur.normalize import Lineage, empty_canonical_select, write_normalized
from finops_platform.lib.cur.passthrough import (
    NORMALIZED,
    PASS_THROUGH,
    IngestMode,
    choose_mode,
    place,
    published_name,
    supplied_columns,
)
from finops_platform.lib.cur.schema import CANONICAL_SCHEMA
from finops_platform.lib.cur.sources import SourceFile, SourceGroup, parquet_groups
from finops_platform.lib.cur.unzip import unzipped
from finops_platform.lib.cur.validation import (
    CheckOutcome,
    RawMonthProfile,
    evaluate,
    profile_month,
)
from finops_platform.lib.engine.base import QueryStats
from finops_platform.lib.engine.connection import restricted_connection
from finops_platform.lib.engine.duckdb import DuckDBSession, sql_string_list, supplied_select
from finops_platform.lib.sql import transpile
from finops_platform.lib.store import Leftover, ObjectStore
from finops_platform.settings import TenantConfig


@dataclass(frozen=True)
class IngestResult:
    delivery: Delivery
    location: str  # where the new version of the month is readable
    profile: RawMonthProfile
    outcomes: list[CheckOutcome]
    files: dict[str, int]  # the published files: name under `location` -> size in bytes
    stats: QueryStats = field(default_factory=QueryStats)  # what the engine's queries cost
    # How the files were written (passthrough.choose_mode), why, and for a pass-through the
    # columns its readers supply (recorded in the catalog partition by tb_cur_raw).
    mode: IngestMode = NORMALIZED
    mode_reason: str = ""
    supplied: SuppliedColumns | None = None


def describe(org_id: str, month: dt.date) -> str:
    return f"tenant {org_id!r}, month {month:%Y-%m}"


def lineage_of(delivery: Delivery, now: dt.datetime | None) -> Lineage:
    """The lineage every row of the delivery carries."""
    return Lineage(
        format=delivery.format,
        assembly_id=delivery.assembly_id,
        ingestion_time=(now or dt.datetime.now(dt.UTC)).replace(tzinfo=None),
    )


def refuse_failures(outcomes: list[CheckOutcome], where: str) -> None:
    """Raise unless every ERROR check passed: the staged copy must not replace the month."""
    failures = [o for o in outcomes if not o.passed and o.severity == "ERROR"]
    if failures:
        reasons = "; ".join(f"{o.name}: {o.description}" for o in failures)
        raise DeliveryError(
            f"{where}: the delivery was not loaded ({reasons}); the previous version of "
            "the month is kept"
        )


class MonthIngest(dg.ConfigurableResource):
    """How raw_cur loads a tenant x month into the lake; the backend table picks one."""

    def ingest(
        self,
        tenant: TenantConfig,
        month: dt.date,
        lake_root: str,
        *,
        previous_row_count: int | None = None,
        now: dt.datetime | None = None,
    ) -> IngestResult:
        """Replace the lake's copy of `tenant`'s `month` with its current CUR delivery; raises
        DeliveryError (keeping the previous version) when it cannot or must not."""
        raise NotImplementedError

    def leftovers(
        self, tenant: TenantConfig, lake_root: str, *, dry_run: bool = False
    ) -> list[tuple[dt.date, str, Leftover]]:
        """What killed ingests of `tenant`'s months left outside the lake's month folders (which
        `ObjectStore.reclaim` covers): (month, catalog table, leftover), removed unless
        `dry_run`, each month under its lock (`finops gc`). None here: the embedded ingest
        stages in the store only."""
        return []


class WorkerIngest(MonthIngest):
    """The embedded mode (and, on AWS, what Athena cannot take: a ZIP CSV report, a delivery
    too wide for Athena's query text): the delivery is copied to this machine, normalized and
    validated by in-process DuckDB."""

    store: ObjectStore
    memory_limit: str
    threads: int
    # Publish compatible CUR 2.0 Parquet deliveries byte for byte (lib/cur/passthrough.py).
    pass_through: bool = True
    # Hard-link passed-through files instead of copying them: only where deliveries are never
    # rewritten in place (passthrough.place).
    hard_links: bool = False

    def ingest(
        self,
        tenant: TenantConfig,
        month: dt.date,
        lake_root: str,
        *,
        previous_row_count: int | None = None,
        now: dt.datetime | None = None,
    ) -> IngestResult:
        return ingest_month(
            self.store,
            tenant,
            month,
            lake_root,
            previous_row_count=previous_row_count,
            memory_limit=self.memory_limit,
            threads=self.threads,
            now=now,
            pass_through=self.pass_through,
            hard_links=self.hard_links,
        )


def source_groups(delivery: Delivery, sources: list[SourceFile], where: str) -> list[SourceGroup]:
    """The delivery's files grouped for the normalization, as their format is read."""
    if delivery.format in CSV_DIALECTS:
        return csv_groups(sources, delivery.column_types, where, CSV_DIALECTS[delivery.format])
    return parquet_groups(sources, where)


def ingest_month(
    store: ObjectStore,
    tenant: TenantConfig,
    month: dt.date,
    lake_root: str,
    *,
    previous_row_count: int | None = None,
    memory_limit: str = "2GB",
    threads: int = 2,
    now: dt.datetime | None = None,
    pass_through: bool = True,
    hard_links: bool = False,
) -> IngestResult:
    """Replace the lake's copy of `tenant`'s `month` with its current CUR delivery: its files
    as they are when `pass_through` allows and they are compatible (passthrough.py), else
    normalized."""
    where = describe(tenant.org_id, month)
    delivery = find_delivery(store, tenant, month)
    lake_uri = raw_month(lake_root, tenant.org_id, month)
    lineage = lineage_of(delivery, now)
    uris = [f.uri for f in delivery.data_files]
    # Runs of a month take turns; each first reclaims what killed runs of the month left. The
    # registered version is not known here: every complete one is kept (tb_cur_raw retires).
    with store.exclusive(lake_uri):
        store.reclaim(lake_uri, live=None)
        with (
            store.staging_dir(lake_uri) as staged,
            store.local_copies(uris) as copies,
            unzipped(copies, uris, where) as paths,
        ):
            with restricted_connection(
                paths, [staged], memory_limit=memory_limit, threads=threads
            ) as connection:
                sources = [SourceFile(path, uri) for path, uri in zip(paths, uris, strict=True)]
                groups = source_groups(delivery, sources, where)
                mode, reason = choose_mode(
                    delivery.format,
                    [(g.schema, [s.uri for s in g.sources]) for g in groups],
                    enabled=pass_through,
                )
                written, relation, supplied = stage_delivery(
                    connection, groups, lineage, staged, where, mode, hard_links
                )
                connection.execute(f"CREATE VIEW staged_cur AS {relation}")
                profile = profile_month(DuckDBSession(connection), "staged_cur", month)
            outcomes = evaluate(profile, month, previous_row_count)
            refuse_failures(outcomes, where)
            files = {path.name: path.stat().st_size for path in written}
            location = store.publish(staged, lake_uri)
    return IngestResult(
        delivery=delivery,
        location=location,
        profile=profile,
        outcomes=outcomes,
        files=files,
        mode=mode,
        mode_reason=reason,
        supplied=supplied,
    )


def stage_delivery(
    connection: duckdb.DuckDBPyConnection,
    groups: list[SourceGroup],
    lineage: Lineage,
    staged: Path,
    where: str,
    mode: IngestMode,
    hard_links: bool = False,
) -> tuple[list[Path], str, SuppliedColumns | None]:
    """Write the month's new version into `staged` the way `mode` says: the files it holds,
    the DuckDB query that reads them as canonical rows, and (pass-through) the columns their
    readers supply."""
    if mode == PASS_THROUGH:
        (group,) = groups
        written, supplied = place_delivery(group, lineage, staged, hard_links)
        return (
            written,
            supplied_select(staged_table(), written, CANONICAL_TYPES, supplied),
            supplied,
        )
    written = write_normalized(connection, groups, lineage, staged, where)
    relation = (
        f"SELECT * FROM read_parquet({sql_string_list([str(p) for p in written])})"
        if written
        else transpile(empty_canonical_select(), "duckdb")
    )
    return written, relation, None


# The canonical columns as catalog types: what the staged month is read as.
CANONICAL_TYPES = {field.name: glue_type(field.type) for field in CANONICAL_SCHEMA}


def staged_table() -> CatalogTable:
    """The staged month as a table without partitions, to read a passed-through version the
    way the engine reads it once registered (`supplied_select`)."""
    return CatalogTable(
        database="staging",
        name="staged_cur",
        location="",
        columns=CANONICAL_TYPES,
        partition_keys={},
    )


def place_delivery(
    group: SourceGroup, lineage: Lineage, staged: Path, hard_links: bool = False
) -> tuple[list[Path], SuppliedColumns]:
    """The delivery's files placed byte for byte in `staged` (`place`), and the columns their
    readers supply."""
    written, sources = [], {}
    for index, source in enumerate(group.sources):
        target = staged / published_name(index)
        place(source.path, target, hard_link=hard_links)
        written.append(target)
        sources[target.name] = source.uri
    return written, supplied_columns(group.schema, lineage, sources)
