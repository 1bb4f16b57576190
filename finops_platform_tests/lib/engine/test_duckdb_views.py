"""The embedded engine's views over catalog tables: partitions read by name only when needed."""

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from finops_platform.defs.common.tables import replacing_partition
from finops_platform.lib.catalog.base import CatalogPartition
from finops_platform.lib.catalog.local import LocalCatalog
from finops_platform.lib.engine.duckdb import STREAMED_BATCH_ROWS, DuckDBEngine
from finops_platform.lib.store.local import LocalObjectStore

DATABASE = "custos_a_db"
TABLE = "cost_daily"


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    store = LocalObjectStore(root=str(tmp_path / "buckets"))
    catalog = LocalCatalog(root=str(tmp_path / "catalog"))
    catalog.ensure_database(DATABASE)
    return DuckDBEngine(store=store, catalog=catalog, memory_limit="1GB", threads=1)


def publish(engine: DuckDBEngine, month: int, select: str) -> None:
    with replacing_partition(
        engine,
        engine.catalog,
        engine.store,
        database=DATABASE,
        table=TABLE,
        lake_root="s3://lake/custos",
        month=dt.date(2026, month, 1),
        sql=select,
        org_id="a",
    ):
        pass


def view_definition(engine: DuckDBEngine) -> str:
    with engine.session(DATABASE) as session:
        ((sql,),) = session.connection.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = ?", [TABLE]
        ).fetchall()
    return sql


def test_partitions_written_alike_are_read_without_matching_names(engine: DuckDBEngine) -> None:
    for month in (1, 2, 3):
        publish(engine, month, f"SELECT {month} AS cost")
    # Matching by name would open every month's footer for a one-month query.
    assert "union_by_name = false" in view_definition(engine)
    with engine.session(DATABASE) as session:
        rows = session.query("SELECT cost FROM cost_daily WHERE month = 2").to_pylist()
    assert rows == [{"cost": 2}]
    (partition, *_) = engine.catalog.list_partitions(DATABASE, TABLE)
    assert partition.columns == {"cost": "int"}


def test_a_partition_from_before_a_new_column_reads_it_as_null(engine: DuckDBEngine) -> None:
    publish(engine, 1, "SELECT 1 AS cost")
    publish(engine, 2, "SELECT 'EC2' AS service, 2 AS cost")
    assert "union_by_name = true" in view_definition(engine)
    with engine.session(DATABASE) as session:
        rows = session.query("SELECT month, service, cost FROM cost_daily ORDER BY month")
    assert rows.to_pylist() == [
        {"month": 1, "service": None, "cost": 1},
        {"month": 2, "service": "EC2", "cost": 2},
    ]


def test_a_partition_registered_again_in_another_key_order_stays_one(
    engine: DuckDBEngine,
) -> None:
    publish(engine, 1, "SELECT 1 AS cost")
    catalog = engine.catalog
    (partition,) = catalog.list_partitions(DATABASE, TABLE)
    assert list(partition.values) == ["org", "year", "month"]  # the table's key order
    reordered = dict(sorted(partition.values.items()))  # month, org, year
    # What earlier versions filed under month=1/org=a/year=2026 when mirroring a partition.
    twin = Path(catalog.root, DATABASE, TABLE, "partitions", "month=1", "org=a", "year=2026.json")
    twin.parent.mkdir(parents=True)
    twin.write_text(partition.model_dump_json())
    assert len(catalog.list_partitions(DATABASE, TABLE)) == 2
    catalog.upsert_partition(
        DATABASE, TABLE, CatalogPartition(**{**dict(partition), "values": reordered})
    )
    assert catalog.list_partitions(DATABASE, TABLE) == [partition]
    with engine.session(DATABASE) as session:
        total = session.query("SELECT sum(cost) AS total FROM cost_daily").to_pylist()
    assert total == [{"total": 1}]  # read once, not twice
    catalog.delete_partition(DATABASE, TABLE, reordered)
    assert catalog.list_partitions(DATABASE, TABLE) == []


def test_an_entry_without_a_file_list_still_reads_its_folder(engine: DuckDBEngine) -> None:
    # Catalog entries written before published files were recorded fall back to every file.
    publish(engine, 1, "SELECT 1 AS cost")
    (partition,) = engine.catalog.list_partitions(DATABASE, TABLE)
    engine.catalog.upsert_partition(
        DATABASE, TABLE, partition.model_copy(update={"parameters": {}})
    )
    folder = engine.store.local_path(partition.location)
    (folder / "part-0.parquet").rename(folder / "written-by-an-older-version.parquet")
    with engine.session(DATABASE) as session:
        rows = session.query("SELECT cost FROM cost_daily").to_pylist()
    assert rows == [{"cost": 1}]


def test_a_large_result_streams_in_batches_equal_to_the_whole(engine: DuckDBEngine) -> None:
    """`query_batches` (what `finops export` writes from) hands the result over a batch at a
    time, the same rows as `query`, so memory follows a batch, not the month."""
    rows = 3 * STREAMED_BATCH_ROWS + 5
    publish(engine, 1, f"SELECT x AS cost FROM UNNEST(sequence(1, {rows})) AS t (x)")
    sql = "SELECT cost FROM cost_daily WHERE month = 1"
    with engine.session(DATABASE) as session:
        whole = session.query(sql)
        batches = list(session.query_batches(sql))
    assert len(batches) >= 4
    assert max(batch.num_rows for batch in batches) <= STREAMED_BATCH_ROWS
    streamed = pa.Table.from_batches(batches)
    assert sorted(streamed.column("cost").to_pylist()) == sorted(whole.column("cost").to_pylist())
    assert streamed.num_rows == rows


def test_an_error_after_the_first_streamed_batch_is_a_duckdb_error(engine: DuckDBEngine) -> None:
    """DuckDB's error in a later batch reaches the reader as a bare OSError; the session
    raises it as the duckdb.Error it is, which `finops` reports as the query's own error."""
    rows = 3 * STREAMED_BATCH_ROWS
    sql = (
        f"SELECT CAST(CASE WHEN x > {rows - 10} THEN 'not a number' ELSE '1' END AS INTEGER) "
        f"AS v FROM UNNEST(sequence(1, {rows})) AS t (x)"
    )
    with engine.session(DATABASE) as session, pytest.raises(duckdb.Error, match="not a number"):
        for _ in session.query_batches(sql):
            pass
