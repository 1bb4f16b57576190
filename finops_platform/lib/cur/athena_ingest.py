"""Ingest one tenant x month inside Athena: no CUR data byte passes through the worker.

The worker lists the delivery and reads its manifest and the footers of its Parquet files (their
schemas, by ranged reads of each file's end), or the header row of its gzip CSV files (a ranged
read of each file's start, typed by the manifest). The files of each schema are registered as a
Glue table over exactly those files (a symlink table: a list of their URIs; CSV through
OpenCSVSerde, as text the normalization types first), and Athena does the rest:
UNLOAD of the normalizing SELECT (normalize.py: the very text the embedded mode transpiles to
DuckDB) into a fresh version prefix of the raw month, then the validation SQL over that version
through a staged table. Only a version that passes every ERROR check gets its `_SUCCESS` marker;
tb_cur_raw then points the partition at it and retires the old one, as with the worker path. A
failed or cancelled UNLOAD, or a failed check, deletes the version: the one registered before
stays registered and readable, and nothing half-written is ever registered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from functools import partial

import pyarrow as pa
from botocore.exceptions import ClientError

from finops_platform.lake import (
    RAW_TABLE,
    delivery_listings,
    delivery_table,
    ingest_table_month,
    ingest_tables,
    join,
    new_version,
    raw_month,
    staged_table,
)
from finops_platform.lib.catalog.base import CatalogTable, SuppliedColumns
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.catalog.types import glue_type
from finops_platform.lib.cur.csv_source import (
    CSV_DIALECTS,
    OVERFLOW_COLUMN,
    gzip_header,
    header_schema,
    typed_text_select,
)
from finops_platform.lib.cur.delivery import CSV_FORMATS, Delivery, DeliveryError, find_delivery
from finops_platform.lib.cur.ingest import (
    IngestResult,
    MonthIngest,
    WorkerIngest,
    describe,
    lineage_of,
    refuse_failures,
)
from finops_platform.lib.cur.normalize import (
    PATH_COLUMN,
    DeliveryTable,
    Lineage,
    normalized_select,
)
from finops_platform.lib.cur.passthrough import (
    NORMALIZED,
    PASS_THROUGH,
    choose_mode,
    kept_names,
    supplied_columns,
)
from finops_platform.lib.cur.schema import CANONICAL_SCHEMA
from finops_platform.lib.cur.validation import evaluate, profile_month
from finops_platform.lib.engine.athena import (
    QUERY_TEXT_LIMIT,
    AthenaEngine,
    AthenaQueryError,
    text_bytes,
    unload_statement,
)
from finops_platform.lib.engine.duckdb import sql_identifier
from finops_platform.lib.store import Leftover, StoredObject
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.settings import TenantConfig

# The one object under a delivery table's location: the URIs of its files, one a line.
FILE_LIST = "files.txt"
UNLOAD_COMPRESSION = "ZSTD"
# How Glue refuses a table's definition (a column name over 255 characters, or outside its
# character pattern): the month's files, not the platform, are at fault.
GLUE_REFUSALS = ("ValidationException", "InvalidInputException")


class AthenaIngest(MonthIngest):
    """The AWS environments: Athena normalizes and validates the delivery where it lies.

    Legacy CUR, CUR 2.0 and the FOCUS export run here, in Parquet or gzip CSV (the FOCUS
    export through its mapping, `focus_source`, the same SQL). A legacy CSV report compressed
    as ZIP, which Athena cannot read, goes through the worker (`worker`), and so does a
    delivery whose normalizing SELECT would be longer than Athena takes (thousands of flat tag
    columns: legacy Parquet past about 2,100, gzip CSV past about 1,250)."""

    engine: AthenaEngine
    catalog: GlueCatalog
    worker: WorkerIngest
    # Copy compatible CUR 2.0 Parquet deliveries into the lake inside S3 instead of UNLOADing
    # them (passthrough.py); Athena's reads of tb_cur_raw supply the lineage the copies lack
    # through the view Glue keeps over them (lib/catalog/supplied_view.py).
    pass_through: bool = True

    @property
    def store(self) -> S3ObjectStore:
        return self.engine.store

    def ingest(
        self,
        tenant: TenantConfig,
        month: dt.date,
        lake_root: str,
        *,
        previous_row_count: int | None = None,
        now: dt.datetime | None = None,
    ) -> IngestResult:
        delivery = find_delivery(self.store, tenant, month)
        on_worker = partial(
            self._on_worker,
            tenant,
            month,
            lake_root,
            previous_row_count=previous_row_count,
            now=now,
        )
        if delivery.zipped:
            return on_worker("Athena reads no ZIP")
        where = describe(tenant.org_id, month)
        lake_uri = raw_month(lake_root, tenant.org_id, month)
        lineage = lineage_of(delivery, now)
        tag = uuid.uuid4().hex[:12]
        listings = delivery_listings(lake_root, tenant.org_id, month)
        listing = join(listings, tag)
        # What the delivery's files are and how they will be read: their footers or header
        # rows only, nothing written yet.
        schemas = self._schemas(delivery, where)
        mode, reason = choose_mode(
            delivery.format, list(schemas.items()), enabled=self.pass_through
        )
        names = kept_names(next(iter(schemas.values()))) if mode == PASS_THROUGH else None
        if mode == PASS_THROUGH and names is None:
            mode = NORMALIZED
            reason = (
                "its files cannot keep their names in the lake (several folders, or a name "
                "Athena skips)"
            )
        tables, select = [], ""
        if mode != PASS_THROUGH:
            tables = self._tables(tenant.database, delivery, schemas, listing, tag, where)
            select = normalized_select([table for table, _ in tables], lineage, where)
            # A version's name has one length: this is the UNLOAD's length to the byte.
            size = text_bytes(unload_statement(select, new_version(lake_uri), UNLOAD_COMPRESSION))
            if size > QUERY_TEXT_LIMIT:
                return on_worker(
                    f"in Athena it would be a statement of {size:,} bytes, over "
                    f"Athena's {QUERY_TEXT_LIMIT:,}-byte limit"
                )
        self.catalog.ensure_database(tenant.database)  # where the delivery's tables go
        # Runs of a month take turns; each first reclaims what killed runs of the month left.
        with self.store.exclusive(lake_uri), self.engine.session(tenant.database) as session:
            self.store.reclaim(lake_uri, live=None)
            self._reclaim(tenant, month, listings)
            version = new_version(lake_uri)
            staged = CatalogTable(
                database=tenant.database,
                name=staged_table(month, tag),
                location=version,
                columns={f.name: glue_type(f.type) for f in CANONICAL_SCHEMA},
                partition_keys={},
            )
            try:
                supplied = None
                if names is not None:
                    ((schema, uris),) = schemas.items()
                    supplied = self._copy(
                        schema, dict(zip(names, uris, strict=True)), lineage, version
                    )
                else:
                    self._register(tables, delivery.format in CSV_FORMATS, where)
                    try:
                        session.unload(select, version, compression=UNLOAD_COMPRESSION)
                    except AthenaQueryError as exc:  # e.g. a ragged CSV row, named by file
                        raise AthenaQueryError(f"{where}: {exc}") from exc
                self.catalog.upsert_table(staged)
                profile = profile_month(session, staged.name, month)
                outcomes = evaluate(profile, month, previous_row_count)
                refuse_failures(outcomes, where)
                self.store.mark_complete(version)
            except BaseException:
                self.store.discard(lake_uri, version)
                raise
            finally:
                # The tables and lists were only the way in: the month is registered as a
                # partition of tb_cur_raw.
                self._reclaim(tenant, month, listings)
            files = {o.uri.removeprefix(version): o.size for o in self.store.list_objects(version)}
        return IngestResult(
            delivery=delivery,
            location=version,
            profile=profile,
            outcomes=outcomes,
            files=files,
            stats=session.stats,
            mode=mode,
            mode_reason=reason,
            supplied=supplied,
        )

    def _on_worker(
        self,
        tenant: TenantConfig,
        month: dt.date,
        lake_root: str,
        why: str,
        *,
        previous_row_count: int | None,
        now: dt.datetime | None,
    ) -> IngestResult:
        """The month ingested by the worker instead, its `mode_reason` saying why."""
        result = self.worker.ingest(
            tenant, month, lake_root, previous_row_count=previous_row_count, now=now
        )
        return replace(result, mode_reason=f"normalized on the worker: {why}; {result.mode_reason}")

    def _copy(
        self, schema: pa.Schema, sources: dict[str, str], lineage: Lineage, version: str
    ) -> SuppliedColumns:
        """Copy the delivery's files (`sources`: name in the lake -> delivery URI) into the
        version prefix inside S3 (passthrough.py), and the columns their readers supply."""
        for name, uri in sources.items():
            self.store.copy_object(uri, version + name)
        return supplied_columns(schema, lineage, sources)

    def _schemas(self, delivery: Delivery, where: str) -> dict[pa.Schema, list[str]]:
        """The delivery's data files by schema (from their footers), in delivery order; files
        without rows are left out (CUR 2.0 OVERWRITE mode leaves empty chunks)."""
        groups: dict[pa.Schema, list[str]] = {}
        for data_file in delivery.data_files:
            if delivery.format in CSV_FORMATS:
                schema = self._csv_schema(delivery, data_file, where)
            else:
                schema = self._schema(data_file, where)
            if schema is not None:
                groups.setdefault(schema, []).append(data_file.uri)
        return groups

    def _tables(
        self,
        database: str,
        delivery: Delivery,
        groups: dict[pa.Schema, list[str]],
        listing: str,
        tag: str,
        where: str,
    ) -> list[tuple[DeliveryTable, CatalogTable]]:
        """The delivery's files as the normalization reads them and as Glue tables, one per
        schema (files whose tag columns drifted get their own), each over exactly its files
        (the list under its location). Column names are registered in lower case, as Athena
        and Glue's crawler keep them (Athena matches names without case, so the SELECT's quoted
        `"ChargePeriodStart"` still reads the FOCUS export's column); a column whose values are
        all NULL (Arrow type null, no catalog type) is left out, and the normalization reads it
        as absent: NULL. CSV is registered as text in header order, plus `OVERFLOW_COLUMN`
        (typed_text_select)."""
        csv = delivery.format in CSV_FORMATS
        tables = []
        for index, (schema, uris) in enumerate(groups.items()):
            typed = pa.schema([f for f in schema if not pa.types.is_null(f.type)])
            name = delivery_table(delivery.month, tag, index)
            text = typed_text_select(typed, sql_identifier(name), PATH_COLUMN) if csv else None
            table = DeliveryTable(name, typed, tuple(uris), rescan_cheap=not csv, typed=text)
            try:
                columns = {f.name.lower(): "string" if csv else glue_type(f.type) for f in typed}
            except TypeError as exc:
                raise DeliveryError(f"{where}: {uris[0]}: {exc}") from exc
            if len(columns) < len(typed):
                raise DeliveryError(
                    f"{where}: {uris[0]}: two columns differ only in case, which Athena cannot "
                    "tell apart"
                )
            if csv:
                if OVERFLOW_COLUMN in columns:
                    raise DeliveryError(
                        f"{where}: {uris[0]}: has a column named {OVERFLOW_COLUMN!r}, the name "
                        "this platform gives the fields past a CSV row's header"
                    )
                columns[OVERFLOW_COLUMN] = "string"
            catalog_table = CatalogTable(
                database=database,
                name=table.name,
                location=join(listing, f"group={index}"),
                columns=columns,
                partition_keys={},
            )
            tables.append((table, catalog_table))
        return tables

    def _register(
        self, tables: list[tuple[DeliveryTable, CatalogTable]], csv: bool, where: str
    ) -> None:
        """Write each table's file list and create it in Glue. A table Glue refuses (a column
        name it does not take: Glue answers ValidationException, or InvalidInputException)
        fails the month naming the table's first file."""
        for table, catalog_table in tables:
            self.store.put_text(catalog_table.location + FILE_LIST, "\n".join(table.uris) + "\n")
            try:
                self.catalog.create_file_list_table(catalog_table, csv=csv)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in GLUE_REFUSALS:
                    raise
                raise DeliveryError(
                    f"{where}: {table.uris[0]}: Glue cannot register its columns: "
                    f"{exc.response['Error'].get('Message', exc)}"
                ) from exc

    def _csv_schema(
        self, delivery: Delivery, data_file: StoredObject, where: str
    ) -> pa.Schema | None:
        """A gzip CSV file's columns, named and typed as the worker reads them, from its
        header row (ranged reads of the file's start); None for a file without one."""
        header = gzip_header(
            lambda first, last: self.store.read_range(data_file.uri, first, last),
            data_file.size,
            data_file.uri,
            where,
        )
        if header is None:
            return None
        dialect = CSV_DIALECTS[delivery.format]
        types = dict(delivery.column_types)
        return header_schema(header, types, dialect, data_file.uri, where)

    def _schema(self, data_file: StoredObject, where: str) -> pa.Schema | None:
        """A data file's schema from its footer; None for a file without rows."""
        try:
            footer = self.store.parquet_footer(data_file)
        except (OSError, pa.ArrowException) as exc:
            raise DeliveryError(
                f"{where}: {data_file.uri}: not a readable Parquet file: {exc}"
            ) from exc
        return footer.schema.to_arrow_schema().remove_metadata() if footer.num_rows else None

    def leftovers(
        self, tenant: TenantConfig, lake_root: str, *, dry_run: bool = False
    ) -> list[tuple[dt.date, str, Leftover]]:
        """The ingest tables and file lists killed runs left, of every month that has an ingest
        table, each month under its lock (a run of it is waited for)."""
        months = {ingest_table_month(t.name) for t in self.catalog.list_tables(tenant.database)}
        found = []
        for month in sorted(m for m in months if m is not None):
            with self.store.exclusive(raw_month(lake_root, tenant.org_id, month)):
                listings = delivery_listings(lake_root, tenant.org_id, month)
                left = self._reclaim(tenant, month, listings, dry_run=dry_run)
            found += [(month, table, leftover) for table, leftover in left]
        return found

    def _reclaim(
        self, tenant: TenantConfig, month: dt.date, listings: str, *, dry_run: bool = False
    ) -> list[tuple[str, Leftover]]:
        """The month's ingest tables and file lists, dropped unless `dry_run`: this run's, or
        what a killed run left (no other run of the month is ingesting: the caller holds the
        month's lock)."""
        found = []
        for table in self.catalog.list_tables(tenant.database):
            if table.name.startswith(ingest_tables(month)):
                found.append((table.name, Leftover(table.location, 0, "ingest table")))
                if not dry_run:
                    self.catalog.delete_table(tenant.database, table.name)
        listed = self.store.list_objects(listings)
        if listed:
            size = sum(o.size for o in listed)
            found.append((RAW_TABLE, Leftover(listings, size, "ingest file lists")))
            if not dry_run:
                self.store.delete_prefix(listings)
        return found
