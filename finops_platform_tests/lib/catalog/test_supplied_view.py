"""On Glue, tb_cur_raw is a view over its files table that supplies what a passed-through month's
files lack (lib/catalog/supplied_view.py). Its Athena SQL, transpiled and run on DuckDB over a
stand-in files table with Athena's `"$path"` column, reads every month as the embedded engine
reads it: a copied CUR 2.0 month exactly as the same delivery normalized, lineage included, and a
normalized month as its files hold it, and a branch of a version not registered changes nothing.

Real parts: generated deliveries, the local store and catalog, DuckDB.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot.errors import ErrorLevel

from finops_platform.defs.common.tables import raw_table
from finops_platform.lake import files_table
from finops_platform.lib.catalog import CatalogPartition, LocalCatalog
from finops_platform.lib.catalog.base import published_files_parameter
from finops_platform.lib.catalog.supplied_view import presto_type, supplied_view_sql
from finops_platform.lib.cur.ingest import IngestResult, ingest_month
from finops_platform.lib.cur.passthrough import NORMALIZED, PASS_THROUGH, kept_names
from finops_platform.lib.engine.duckdb import DuckDBEngine, sql_string_list
from finops_platform.lib.sql import transpile
from finops_platform.lib.store import LocalObjectStore
from finops_platform.sample import generate_month
from finops_platform.settings import TenantConfig
from finops_platform_tests.conftest import tenant_entry

SEPTEMBER, OCTOBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 10, 2, 3, 4, 5, 678000)
LAKE_ROOT = "s3://finops-lake/"
KEY = "year, month, identity_line_item_id, identity_time_interval"


def tenant(source: Path) -> TenantConfig:
    return TenantConfig.model_validate(tenant_entry("acme", source))


def values(month: dt.date) -> dict[str, str]:
    return {"org": "acme", "year": str(month.year), "month": str(month.month)}


def partition(result: IngestResult, month: dt.date) -> CatalogPartition:
    """The catalog entry tb_cur_raw registers for an ingest's version."""
    parameters = published_files_parameter(result.files)
    if result.supplied is not None:
        parameters |= result.supplied.parameters()
    return CatalogPartition(values=values(month), location=result.location, parameters=parameters)


def embedded_rows(store: LocalObjectStore, entries: list[CatalogPartition], folder: Path) -> list:
    """tb_cur_raw's rows as the embedded engine reads these partitions."""
    catalog = LocalCatalog(root=str(folder))
    table = raw_table(tenant(Path("unused")), LAKE_ROOT)
    catalog.upsert_table(table)
    for entry in entries:
        catalog.upsert_partition(table.database, table.name, entry)
    with DuckDBEngine(store=store, catalog=catalog).session(table.database) as session:
        return session.query_native(f"SELECT * FROM tb_cur_raw ORDER BY {KEY}").to_pylist()


def test_the_view_reads_a_copied_month_as_its_normalized_twin(tmp_path: Path) -> None:
    source = tmp_path / "source"
    september = generate_month(
        source, month=SEPTEMBER, rows=6000, fmt="cur2", seed=7, rows_per_file=2500
    )
    generate_month(source, month=OCTOBER, rows=3000, fmt="legacy", seed=8)
    store = LocalObjectStore(root=str(tmp_path / "lake"))
    copied = ingest_month(store, tenant(source), SEPTEMBER, LAKE_ROOT, now=NOW)
    october = ingest_month(store, tenant(source), OCTOBER, LAKE_ROOT, now=NOW)
    twin_store = LocalObjectStore(root=str(tmp_path / "twin"))
    twin = ingest_month(
        twin_store, tenant(source), SEPTEMBER, LAKE_ROOT, now=NOW, pass_through=False
    )
    assert (copied.mode, october.mode, twin.mode) == (PASS_THROUGH, NORMALIZED, NORMALIZED)
    expected = embedded_rows(
        twin_store, [partition(twin, SEPTEMBER)], tmp_path / "c1"
    ) + embedded_rows(store, [partition(october, OCTOBER)], tmp_path / "c2")

    # As on S3: the copies keep their delivery names in the version folder.
    uris = [str(path) for path in september.data_files]
    names = kept_names(uris)
    assert names is not None and len(names) == 3
    folder = tmp_path / "s3-copy" / "v=1"
    folder.mkdir(parents=True)
    for name, path in zip(names, september.data_files, strict=True):
        shutil.copyfile(path, folder / name)
    assert copied.supplied is not None
    supplied = copied.supplied.model_copy(
        update={"by_file": {"x_source_file": dict(zip(names, uris, strict=True))}}
    )
    entries = [
        CatalogPartition(
            values=values(SEPTEMBER),
            location=str(folder),
            parameters=published_files_parameter(copied.files) | supplied.parameters(),
        ),
        partition(october, OCTOBER),
    ]
    # A view may hold a branch of a version not (or no longer) registered: a run killed between
    # writing the view and the partition. It reads none of that month's registered rows.
    elsewhere = entries[0].model_copy(update={"location": str(tmp_path / "s3-copy" / "v=0")})
    table = raw_table(tenant(source), LAKE_ROOT)
    athena_sql = supplied_view_sql(table, files_table(table.name), [*entries, elsewhere])
    sqlglot.parse_one(athena_sql, read="trino", error_level=ErrorLevel.RAISE)
    # One branch a supplied column and version, whatever the number of files; every constant
    # typed in its branch, as Athena finds no common type for text and a timestamp.
    assert athena_sql.count("THEN concat(") == 2 and athena_sql.count("starts_with(") == 8
    assert "THEN '" not in athena_sql
    assert "THEN CAST('2026-10-02 03:04:05.678000' AS timestamp(3))" in athena_sql

    october_files = [str(store.local_path(october.location) / n) for n in october.files]
    files = [(SEPTEMBER, [str(folder / name) for name in names]), (OCTOBER, october_files)]
    rows = view_rows(athena_sql, files)
    assert rows.column_names == [*table.columns, *table.partition_keys]
    actual = rows.to_pylist()
    assert len(actual) == september.rows + 3000
    assert actual == expected
    assert {r["x_source_file"] for r in actual if r["month"] == 9} == set(uris)

    # Copies that could not keep their names (as the embedded mode names them, part-<i>): a
    # branch per file, read alike.
    renamed = partition(copied, SEPTEMBER)
    renamed = renamed.model_copy(update={"location": str(store.local_path(copied.location))})
    per_file = supplied_view_sql(table, files_table(table.name), [renamed, entries[1]])
    assert per_file.count("WHEN 'part-") == 3 and "THEN concat(" not in per_file
    copies = [str(store.local_path(copied.location) / name) for name in copied.files]
    assert view_rows(per_file, [(SEPTEMBER, copies), (OCTOBER, october_files)]).to_pylist() == (
        expected
    )


def view_rows(athena_sql: str, files: list[tuple[dt.date, list[str]]]) -> pa.Table:
    """The view's rows, its SQL transpiled to DuckDB, over a stand-in tb_cur_raw_files: each
    month's files with Athena's `"$path"` (DuckDB's `filename`) and the partition keys."""
    parts = [
        f"SELECT *, filename AS \"$path\", 'acme' AS org, {month.year} AS year, "
        f"{month.month} AS month "
        f"FROM read_parquet({sql_string_list(paths)}, hive_partitioning = false)"
        for month, paths in files
    ]
    with duckdb.connect() as connection:
        connection.execute("CREATE SCHEMA custos_acme_db")
        connection.execute(
            "CREATE VIEW custos_acme_db.tb_cur_raw_files AS " + " UNION ALL BY NAME ".join(parts)
        )
        sql = f"SELECT * FROM ({transpile(athena_sql, 'duckdb')}) ORDER BY {KEY}"
        return connection.sql(sql).to_arrow_table()


def test_view_types_are_athenas_names_of_the_catalog_types() -> None:
    assert presto_type("map<string,string>") == "map(varchar,varchar)"
    assert presto_type("timestamp") == "timestamp(3)"
    assert presto_type("decimal(38,10)") == "decimal(38,10)"
    assert presto_type("array<timestamp>") == "array(timestamp(3))"
    assert presto_type("struct<timestamp_x:int,at:timestamp>") == (
        "row(timestamp_x integer,at timestamp(3))"
    )
    assert [presto_type(t) for t in ("string", "int", "bigint", "double", "date")] == [
        "varchar",
        "integer",
        "bigint",
        "double",
        "date",
    ]


def test_copies_keep_their_names_only_from_one_folder() -> None:
    folder = "s3://src/cur/data/BILLING_PERIOD=2026-09/"
    assert kept_names([folder + "a-00001.snappy.parquet", folder + "a-00002.snappy.parquet"]) == [
        "a-00001.snappy.parquet",
        "a-00002.snappy.parquet",
    ]
    assert kept_names([folder + "a.parquet", "s3://src/cur/other/a.parquet"]) is None
    assert kept_names([folder + "_hidden.parquet"]) is None
    assert kept_names([folder + "data.csv.gz"]) is None
    assert kept_names([folder + "a b.parquet"]) is None
    assert kept_names([folder + "caf\u00e9.parquet"]) is None
