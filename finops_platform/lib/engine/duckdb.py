"""The embedded query engine: DuckDB in-process over the lake's Parquet files.

A session builds one catalog database as DuckDB views, one per catalog table, over exactly the
registered partitions (as Athena sees a Glue table), and can read nothing but that database's
table locations: a tenant's session cannot touch another tenant's files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot.errors import SqlglotError

from finops_platform.lib.catalog import Catalog, CatalogEntryError, CatalogPartition, CatalogTable
from finops_platform.lib.catalog.base import SuppliedColumns
from finops_platform.lib.catalog.types import engine_type, glue_type
from finops_platform.lib.engine.base import EngineSession, PartitionWrite, QueryEngine, QueryStats
from finops_platform.lib.engine.connection import restricted_connection
from finops_platform.lib.sql import Identifier, transpile
from finops_platform.lib.store import LocalObjectStore

# Rows per batch of a streamed result: a Parquet row group's worth (DuckDB's default), about
# 100 MB of a wide table such as focus_cost.
STREAMED_BATCH_ROWS = 122_880


class DuckDBSession(EngineSession):
    dialect = "duckdb"

    def __init__(
        self, connection: duckdb.DuckDBPyConnection, views: Sequence[CatalogTable] = ()
    ) -> None:
        self.connection = connection
        self.stats = QueryStats()  # in-process: nothing billed
        # The catalog's views, each defined before the first query that names it: binding
        # focus_cost's query takes longer than the rest of a session's set-up, and most
        # sessions never read it.
        self._pending_views = {view.name.lower(): view for view in views}

    def query_native(self, sql: str) -> pa.Table:
        self.define_views_named(sql)
        return self.connection.sql(sql).to_arrow_table()

    def query_batches(self, sql: str) -> pa.RecordBatchReader:
        """The result streamed from DuckDB a batch at a time: memory follows the batch, not
        the result (DuckDB computes the next batch as the reader asks for it)."""
        native = transpile(sql, self.dialect)
        self.define_views_named(native)
        reader = self.connection.sql(native).to_arrow_reader(STREAMED_BATCH_ROWS)
        return pa.RecordBatchReader.from_batches(reader.schema, _duckdb_errors(reader))

    def define_views_named(self, sql: str) -> None:
        """Define the pending catalog views whose names `sql` contains (a name in a string or
        a comment defines one needlessly, never wrongly). One that no longer binds (a column
        its query names is gone) fails its own readers only, with DuckDB's reason."""
        text = sql.lower()
        for name in [name for name in self._pending_views if name in text]:
            _create_catalog_view(self.connection, self._pending_views.pop(name))


class DuckDBEngine(QueryEngine):
    """DuckDB over the local object store, with the catalog's tables as views."""

    store: LocalObjectStore
    catalog: Catalog
    memory_limit: str = "2GB"
    threads: int = 2

    @contextmanager
    def session(self, database: str, writable: Sequence[Path] = ()) -> Iterator[DuckDBSession]:
        """Reads exactly the files published for the registered partitions of `database`'s
        tables, and can create nothing outside `writable` (only `write_partition` gives one)."""
        tables = self.catalog.list_tables(database)
        views = [(table, *self._view(table)) for table in tables if not table.is_view]
        readable = [path for _, _, files in views for path in files]
        with restricted_connection(
            readable, writable, memory_limit=self.memory_limit, threads=self.threads
        ) as connection:
            schema = Identifier(database).name
            connection.execute(f'CREATE SCHEMA "{schema}"')
            for table, select, _ in views:
                connection.execute(f"CREATE VIEW {_qualified(table)} AS {select}")
            connection.execute(f'USE "{schema}"')
            yield DuckDBSession(connection, [table for table in tables if table.is_view])

    def define_view(self, database: str, name: str, sql: str) -> pa.Schema:
        """The view's query is bound in a session over the database (as Athena checks it),
        then recorded in the catalog; each session defines it anew over its tables."""
        select = _duckdb_view_sql(sql)
        with self.session(database) as session:
            session.define_views_named(select)
            schema = session.connection.sql(select).limit(0).to_arrow_table().schema
        self.catalog.upsert_table(
            CatalogTable(
                database=database,
                name=name,
                location="",
                columns={field.name: glue_type(field.type) for field in schema},
                partition_keys={},
                view_sql=sql,
            )
        )
        return schema

    def write_partition(self, database: str, sql: str, location: str) -> PartitionWrite:
        select = transpile(sql, "duckdb")
        with (
            self.store.staging_dir(location) as staged,
            self.session(database, writable=[staged]) as session,
        ):
            connection = session.connection
            schema = connection.sql(select).limit(0).to_arrow_table().schema
            connection.execute(
                f"COPY ({select}) TO {sql_string(str(staged))} (FORMAT parquet, "
                "COMPRESSION zstd, FILE_SIZE_BYTES '256MB', FILENAME_PATTERN 'part-{i}', "
                "OVERWRITE_OR_IGNORE true)"
            )
            files = sorted(staged.glob("*.parquet"))
            rows = sum(pq.read_metadata(f).num_rows for f in files)
            sizes = {f.name: f.stat().st_size for f in files}
            published = self.store.publish(staged, location)
        return PartitionWrite(
            location=published, rows=rows, bytes=sum(sizes.values()), schema=schema, files=sizes
        )

    def ensure_workgroup(self, name: str, bytes_scanned_cutoff: int, dry_run: bool = False) -> str:
        return "not needed (DuckDB in-process)"

    def _view(self, table: CatalogTable) -> tuple[str, list[Path]]:
        """The SELECT behind `table`'s view and the files it reads: exactly those the catalog
        records as published for each registered partition (a file added there out of band is
        not read), or for an entry without that list (registered before it was recorded)
        every Parquet file there; a partition whose files lack columns its readers supply
        (`supplied_select`) is read on its own. An unreadable catalog entry makes only this
        table's queries
        fail, each with the entry's one line: the session's other tables (and the run that
        rebuilds the entry) work on."""
        try:
            partitions = self.catalog.list_partitions(table.database, table.name)
        except CatalogEntryError as exc:
            return failing_select(table, str(exc)), []
        read = [(partition, self._published(partition)) for partition in partitions]
        files = [path for _, found in read for path in found]
        if not files:
            return empty_select(table), []
        try:
            supplied = [p.supplied_columns() for p, _ in read]
        except ValueError as exc:  # a parameter edited by hand: this table fails, by name
            return failing_select(table, f"{table.name}: unreadable supplied_columns: {exc}"), []
        whole = [
            (p, found) for (p, found), extra in zip(read, supplied, strict=True) if extra is None
        ]
        if len(whole) == len(read):
            return whole_select(table, whole), files
        # Some partition's reader supplies columns its files lack (a CUR 2.0 month published
        # byte for byte): each of those is read on its own, projected to the table's columns,
        # and the rest as one read, as before.
        selects = [
            supplied_select(table, found, p.columns, extra, hive=True)
            for (p, found), extra in zip(read, supplied, strict=True)
            if extra is not None and found
        ]
        if any(found for _, found in whole):
            columns = ", ".join(
                sql_identifier(name) for name in [*table.columns, *hive_keys(table)]
            )
            selects.insert(0, f"SELECT {columns} FROM ({whole_select(table, whole)})")
        return "\nUNION ALL\n".join(selects), files

    def _published(self, partition: CatalogPartition) -> list[Path]:
        """The files of a registered partition that its readers read."""
        self.store.recover_prefix(partition.location)
        folder = self.store.local_path(partition.location)
        published = partition.published_files()
        if published is None:
            return sorted(folder.glob("*.parquet"))
        return [folder / name for name in sorted(published)]


def _duckdb_errors(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches, with an error DuckDB meets after the first batch raised as the
    duckdb.Error it is (the Arrow stream hands it over as a bare OSError), so it reads as a
    query's error, not as a fault of the machine."""
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except OSError as exc:
            raise duckdb.Error(str(exc)) from exc


def _qualified(table: CatalogTable) -> str:
    return f'"{Identifier(table.database).name}"."{Identifier(table.name).name}"'


@cache
def _duckdb_view_sql(athena_sql: str) -> str:
    """A catalog view's query in DuckDB's dialect (every session defines the views again, and
    transpiling a long query takes longer than binding it)."""
    return transpile(athena_sql, "duckdb")


def _create_catalog_view(connection: duckdb.DuckDBPyConnection, table: CatalogTable) -> None:
    name = _qualified(table)
    try:
        connection.execute(f"CREATE VIEW {name} AS {_duckdb_view_sql(table.view_sql or '')}")
    except (duckdb.Error, ValueError, SqlglotError) as exc:  # the last two: unreadable SQL
        reason = f"view {table.database}.{table.name} does not bind: {exc}"
        connection.execute(f"CREATE VIEW {name} AS {failing_select(table, reason)}")


def _hive_options(table: CatalogTable) -> str:
    """read_parquet's options that take the table's partition keys from the files' paths."""
    hive_types = ", ".join(
        f"'{key}': {engine_type(kind, 'duckdb')}" for key, kind in table.partition_keys.items()
    )
    return f"hive_partitioning = true, hive_types = {{{hive_types}}}"


def hive_keys(table: CatalogTable) -> list[str]:
    """The partition keys in the order `read_parquet`'s hive partitioning appends them to a
    file's columns (by name), so a view reads alike whichever way its partitions are read."""
    return sorted(table.partition_keys)


def whole_select(table: CatalogTable, read: list[tuple[CatalogPartition, list[Path]]]) -> str:
    """One read of the files of partitions that hold every column of the table."""
    files = [str(path) for _, found in read for path in found]
    # Matching columns by name across files makes DuckDB open every file's footer when
    # the view is bound, even those a query's partition filter then skips; only needed
    # when partitions were written with different columns (the table's changed since).
    by_name = any(p.columns != table.columns for p, _ in read)
    return (
        f"SELECT * FROM read_parquet({sql_string_list(files)}, {_hive_options(table)}, "
        f"union_by_name = {str(by_name).lower()})"
    )


def supplied_select(
    table: CatalogTable,
    files: list[Path],
    file_columns: dict[str, str],
    supplied: SuppliedColumns,
    hive: bool = False,
) -> str:
    """The table's rows from files that hold `file_columns` (all the table's but those
    `supplied`): a supplied column is a constant, or a value per file from DuckDB's `filename`
    (constant within each scanned chunk, so the CASE costs per chunk, not per row); the
    partition keys come from the paths (`hive`). Columns neither in the files nor supplied
    read as NULL."""
    by_path = {path.name: str(path) for path in files}
    columns = []
    for name, kind in table.columns.items():
        target = engine_type(kind, "duckdb")
        if name in supplied.constants:
            value = supplied.constants[name]
            expr = "NULL" if value is None else sql_string(value)
        elif name in supplied.by_file:
            cases = " ".join(
                f"WHEN {sql_string(by_path[file])} THEN {sql_string(value)}"
                for file, value in supplied.by_file[name].items()
                if file in by_path
            )
            expr = f"CASE filename {cases} END" if cases else "NULL"
        elif name in file_columns:
            columns.append(sql_identifier(name))
            continue
        else:
            expr = "NULL"
        columns.append(f"CAST({expr} AS {target}) AS {sql_identifier(name)}")
    options = ""
    if hive:
        columns += [sql_identifier(key) for key in hive_keys(table)]
        options = f", {_hive_options(table)}"
    paths = sql_string_list([str(path) for path in files])
    return f"SELECT {', '.join(columns)} FROM read_parquet({paths}{options})"


def empty_select(table: CatalogTable) -> str:
    """A query with the table's columns and no rows, for a table without data yet."""
    columns = {**table.columns, **table.partition_keys}
    casts = ", ".join(
        f'CAST(NULL AS {engine_type(kind, "duckdb")}) AS "{Identifier(column).name}"'
        for column, kind in columns.items()
    )
    return f"SELECT {casts} WHERE false"


def failing_select(table: CatalogTable, message: str) -> str:
    """A query with the table's columns that raises `message` whenever it is read: every column
    and the filter call DuckDB's error(), so neither a count(*) nor a pushed-down filter can
    answer from it without raising."""
    error = f"error({sql_string(message)})"
    columns = {**table.columns, **table.partition_keys}
    casts = ", ".join(
        f'CAST({error} AS {engine_type(kind, "duckdb")}) AS "{Identifier(column).name}"'
        for column, kind in columns.items()
    )
    return f"SELECT {casts} FROM range(1) WHERE {error} IS NULL"


def sql_string(value: str) -> str:
    """A DuckDB string literal, quotes escaped."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A DuckDB quoted identifier (a column name), quotes escaped."""
    return '"' + name.replace('"', '""') + '"'


def sql_string_list(values: list[str]) -> str:
    """A DuckDB list literal of strings, quotes escaped."""
    return "[" + ", ".join(sql_string(value) for value in values) + "]"
