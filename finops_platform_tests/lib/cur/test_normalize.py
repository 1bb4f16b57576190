"""Normalizing a multi-file delivery: files that share a schema are read in one scan, a file
whose tag columns drifted gets its own projection, and every row keeps its own file's lineage."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.normalize import (
    Lineage,
    delivery_tables,
    normalized_select,
    write_normalized,
)
from finops_platform.lib.cur.sources import SourceFile, SourceGroup, parquet_groups
from finops_platform.sample import GeneratedDelivery, generate_month

MONTH = dt.date(2026, 10, 1)
LINEAGE = Lineage(format="legacy", assembly_id="a-1", ingestion_time=dt.datetime(2026, 11, 2))
WHERE = "tenant 'acme', month 2026-10"


@pytest.fixture
def delivery(tmp_path: Path) -> GeneratedDelivery:
    """Three 1,000-row legacy parts; the last one traded `user_team` for `user_project`."""
    generated = generate_month(
        tmp_path / "source",
        month=MONTH,
        rows=3000,
        fmt="legacy",
        seed=5,
        rows_per_file=1000,
        chunk_rows=1000,
    )
    drifted = pq.read_table(generated.data_files[-1])
    team = drifted.column("resource_tags_user_team")
    drifted = drifted.drop_columns(["resource_tags_user_team"]).append_column(
        "resource_tags_user_project", pc.utf8_upper(team)
    )
    pq.write_table(drifted, generated.data_files[-1])
    return generated


def groups(delivery: GeneratedDelivery) -> list[SourceGroup]:
    # Lineage names the file where the delivery lives, not the local copy DuckDB reads.
    sources = [
        SourceFile(path, f"s3://cur-bucket/part-{index}.parquet")
        for index, path in enumerate(delivery.data_files)
    ]
    return parquet_groups(sources, WHERE)


def test_files_sharing_a_schema_are_one_scan(delivery: GeneratedDelivery) -> None:
    select = normalized_select(delivery_tables(groups(delivery)), LINEAGE, WHERE)
    assert select.count("UNION ALL") == 1  # two schemas, not three files


def test_each_row_keeps_its_file_and_its_own_tags(
    delivery: GeneratedDelivery, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    written = write_normalized(duckdb.connect(), groups(delivery), LINEAGE, out, "acme")
    per_file = duckdb.sql(
        "SELECT x_source_file, count(*) AS n, "
        "CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) AS cost, "
        "count_if(list_contains(map_keys(resource_tags), 'user_team')) AS team_tags, "
        "count_if(list_contains(map_keys(resource_tags), 'user_project')) AS project_tags "
        f"FROM read_parquet({[str(path) for path in written]!r}) "
        "GROUP BY x_source_file ORDER BY x_source_file"
    ).fetchall()
    files = [row[0] for row in per_file]
    assert files == [f"s3://cur-bucket/part-{index}.parquet" for index in range(3)]
    assert [row[1] for row in per_file] == [1000, 1000, 1000]
    assert sum(Decimal(row[2]) for row in per_file) == delivery.unblended_total
    (first, second, drifted) = per_file
    assert first[3] > 0 and second[3] > 0 and first[4] == second[4] == 0
    assert drifted[3] == 0 and drifted[4] > 0


def test_a_bad_column_names_the_files_that_share_it(delivery: GeneratedDelivery) -> None:
    for path in delivery.data_files[:2]:
        table = pq.read_table(path)
        cost = table.schema.get_field_index("line_item_unblended_cost")
        pq.write_table(
            table.set_column(cost, "line_item_unblended_cost", table[cost].cast("string")), path
        )
    with pytest.raises(DeliveryError) as error:
        normalized_select(delivery_tables(groups(delivery)), LINEAGE, WHERE)
    assert str(error.value) == (
        "tenant 'acme', month 2026-10: s3://cur-bucket/part-0.parquet (and 1 more with its "
        "columns): column 'line_item_unblended_cost' has type string, expected double"
    )


def test_a_wide_legacy_delivery_keeps_every_tag_and_the_exact_total(tmp_path: Path) -> None:
    """3,000 flat tag columns (legacy CUR has one per activated tag key) become one map per row,
    built in map_concat pieces: each row holds exactly its non-empty tags, and the cost is
    exact to the cent."""
    generated = generate_month(
        tmp_path / "source", month=MONTH, rows=2000, fmt="legacy", seed=7, chunk_rows=2000
    )
    width = 3000
    path = generated.data_files[0]
    table = pq.read_table(path)
    names = [f"resource_tags_user_k{key:04d}" for key in range(width)]
    columns = [
        pa.array([f"v{row}" if row % width == key else "" for row in range(table.num_rows)])
        for key in range(width)
    ]
    pq.write_table(
        pa.Table.from_arrays([*table.columns, *columns], [*table.column_names, *names]), path
    )
    out = tmp_path / "out"
    connection = duckdb.connect(config={"memory_limit": "2GB", "threads": 2})
    files = [SourceFile(p, p.name) for p in generated.data_files]
    write_normalized(connection, parquet_groups(files, "t"), LINEAGE, out, "t")
    files = f"read_parquet('{out}/*.parquet')"
    total = connection.execute(
        f"SELECT sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) FROM {files}"
    ).fetchone()[0]
    tags, placed = connection.execute(
        "SELECT count(*), count(*) FILTER (WHERE e.key = 'user_k' || "
        f"lpad(CAST(CAST(substr(e.value, 2) AS INTEGER) % {width} AS VARCHAR), 4, '0')) "
        f"FROM (SELECT unnest(map_entries(resource_tags)) AS e FROM {files}) "
        "WHERE regexp_full_match(e.key, 'user_k[0-9]{4}')"
    ).fetchone()
    assert total == generated.unblended_total
    assert tags == placed == generated.rows


def athena_statements(delivery: GeneratedDelivery, tmp_path: Path) -> list[str]:
    """The normalizing SELECTs Athena runs for a drifted legacy month (flat maps joined), for
    each file's maps built row by row (CSV, wide files), for CUR 2.0 and for no files."""
    cur2 = generate_month(tmp_path / "cur2", month=MONTH, rows=500, fmt="cur2", seed=3)
    cur2_files = [SourceFile(p, f"s3://cur-bucket/{p.name}") for p in cur2.data_files]
    row_by_row = [replace(group, rescan_cheap=False) for group in groups(delivery)]
    return [
        normalized_select(delivery_tables(tables), LINEAGE, WHERE)
        for tables in (groups(delivery), row_by_row, parquet_groups(cur2_files, WHERE), [])
    ]


def test_sqlglot_reads_every_normalizing_select_as_trino_without_loss(
    delivery: GeneratedDelivery, tmp_path: Path
) -> None:
    """The text Athena runs is Trino SQL that sqlglot parses whole (no statement it falls back
    to keeping as raw text, nothing it cannot write back), reads back to the same tree, and
    turns into DuckDB SQL without an unsupported construct: the SQL the embedded mode proves."""
    for statement in athena_statements(delivery, tmp_path):
        tree = sqlglot.parse_one(statement, read="trino", error_level=ErrorLevel.RAISE)
        assert isinstance(tree, exp.Query) and not list(tree.find_all(exp.Command))
        written = tree.sql("trino", unsupported_level=ErrorLevel.RAISE)
        assert sqlglot.parse_one(written, read="trino") == tree
        tree.sql("duckdb", unsupported_level=ErrorLevel.RAISE)
