"""Normalizing a multi-file delivery: files that share a schema are read in one scan, a file
whose tag columns drifted gets its own projection, and every row keeps its own file's lineage."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.normalize import Lineage, normalized_select, write_normalized
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
    select = normalized_select(groups(delivery), LINEAGE, WHERE)
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
        normalized_select(groups(delivery), LINEAGE, WHERE)
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
