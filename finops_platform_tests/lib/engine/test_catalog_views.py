"""Views in the embedded catalog (focus_cost): defined over the database's tables, read through
every session, put back as they were when a new definition fails its check, and a table of the
same name (how focus_cost was kept before) unregistered, or registered again on failure."""

import datetime as dt
from pathlib import Path

import pytest

from finops_platform.defs.common.tables import replacing_partition, replacing_view
from finops_platform.lib.catalog.local import LocalCatalog
from finops_platform.lib.engine.duckdb import DuckDBEngine
from finops_platform.lib.store.local import LocalObjectStore

DATABASE = "custos_a_db"
LAKE = "s3://lake/custos"
VIEW = "costs_doubled"
SELECT_DOUBLED = f'SELECT org, year, month, 2 * cost AS cost FROM "{DATABASE}"."cost_daily"'


class CheckFailed(Exception):
    """What a failed blocking check raises inside the context."""


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    store = LocalObjectStore(root=str(tmp_path / "buckets"))
    catalog = LocalCatalog(root=str(tmp_path / "catalog"))
    catalog.ensure_database(DATABASE)
    engine = DuckDBEngine(store=store, catalog=catalog, memory_limit="1GB", threads=1)
    for month in (1, 2):
        publish(engine, "cost_daily", month, f"SELECT {month}.5 AS cost")
    return engine


def publish(engine: DuckDBEngine, table: str, month: int, select: str) -> None:
    with replacing_partition(
        engine,
        engine.catalog,
        engine.store,
        database=DATABASE,
        table=table,
        lake_root=LAKE,
        month=dt.date(2026, month, 1),
        sql=select,
        org_id="a",
    ):
        pass


def define(engine: DuckDBEngine, sql: str, fail: bool = False) -> None:
    with replacing_view(
        engine,
        engine.catalog,
        engine.store,
        database=DATABASE,
        name=VIEW,
        lake_root=LAKE,
        sql=sql,
        org_id="a",
    ):
        if fail:
            raise CheckFailed


def read(engine: DuckDBEngine, sql: str = f"SELECT month, cost FROM {VIEW} ORDER BY month") -> list:
    with engine.session(DATABASE) as session:
        return session.query(sql).to_pylist()


def test_a_view_reads_every_partition_and_a_filter_picks_one(engine: DuckDBEngine) -> None:
    define(engine, SELECT_DOUBLED)
    entry = engine.catalog.get_table(DATABASE, VIEW)
    assert entry is not None and entry.is_view and entry.view_sql == SELECT_DOUBLED
    assert entry.columns["cost"].startswith("decimal") and entry.partition_keys == {}
    assert engine.catalog.list_partitions(DATABASE, VIEW) == []
    assert read(engine) == [{"month": 1, "cost": 3}, {"month": 2, "cost": 5}]
    assert read(engine, f"SELECT cost FROM {VIEW} WHERE month = 2") == [{"cost": 5}]
    assert not (Path(engine.store.root) / "lake" / "custos" / "curated" / VIEW).exists()


def test_a_failed_definition_puts_the_previous_view_back(engine: DuckDBEngine) -> None:
    define(engine, SELECT_DOUBLED)
    tripled = SELECT_DOUBLED.replace("2 * cost", "3 * cost")
    with pytest.raises(CheckFailed):
        define(engine, tripled, fail=True)
    assert engine.catalog.get_table(DATABASE, VIEW).view_sql == SELECT_DOUBLED
    assert read(engine)[0] == {"month": 1, "cost": 3}


def test_a_first_definition_that_fails_leaves_no_view(engine: DuckDBEngine) -> None:
    with pytest.raises(CheckFailed):
        define(engine, SELECT_DOUBLED, fail=True)
    assert engine.catalog.get_table(DATABASE, VIEW) is None


def test_a_query_that_does_not_bind_defines_nothing(engine: DuckDBEngine) -> None:
    define(engine, SELECT_DOUBLED)
    with pytest.raises(Exception, match="no_such_column"):
        define(engine, SELECT_DOUBLED.replace("2 * cost", "no_such_column"))
    assert engine.catalog.get_table(DATABASE, VIEW).view_sql == SELECT_DOUBLED


def test_a_table_of_the_same_name_gives_way_and_comes_back_if_the_view_fails(
    engine: DuckDBEngine,
) -> None:
    publish(engine, VIEW, 1, "SELECT 7.0 AS cost")  # the materialized table of before
    table = engine.catalog.get_table(DATABASE, VIEW)
    (partition,) = engine.catalog.list_partitions(DATABASE, VIEW)
    with pytest.raises(CheckFailed):
        define(engine, SELECT_DOUBLED, fail=True)
    assert engine.catalog.get_table(DATABASE, VIEW) == table
    assert engine.catalog.list_partitions(DATABASE, VIEW) == [partition]
    assert read(engine) == [{"month": 1, "cost": 7}]

    define(engine, SELECT_DOUBLED)
    assert engine.catalog.get_table(DATABASE, VIEW).is_view
    assert engine.catalog.list_partitions(DATABASE, VIEW) == []
    assert read(engine) == [{"month": 1, "cost": 3}, {"month": 2, "cost": 5}]


def test_a_view_that_no_longer_binds_fails_its_readers_only(engine: DuckDBEngine) -> None:
    define(engine, SELECT_DOUBLED)
    entry = engine.catalog.get_table(DATABASE, VIEW)
    broken = entry.model_copy(update={"view_sql": SELECT_DOUBLED.replace("cost_daily", "gone")})
    engine.catalog.upsert_table(broken)
    with pytest.raises(Exception, match=f"view {DATABASE}.{VIEW} does not bind"):
        read(engine)
    assert read(engine, "SELECT count(*) AS n FROM cost_daily") == [{"n": 2}]


def test_a_view_edited_to_read_another_tenants_database_reads_nothing(
    engine: DuckDBEngine,
) -> None:
    """A hostile edit of the catalog entry cannot widen what a session reads: the other
    tenant's database is not in the session (nor its files among the readable ones)."""
    engine.catalog.ensure_database("custos_b_db")
    define(engine, SELECT_DOUBLED)
    entry = engine.catalog.get_table(DATABASE, VIEW)
    stolen = SELECT_DOUBLED.replace(DATABASE, "custos_b_db")
    engine.catalog.upsert_table(entry.model_copy(update={"view_sql": stolen}))
    with pytest.raises(Exception, match=f"view {DATABASE}.{VIEW} does not bind"):
        read(engine)
