"""Restricted DuckDB connections: only the given folders, and correct window sums."""

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.lib.engine.connection import restricted_connection


def months(root: Path) -> Path:
    for month, costs in ((9, [1.0, 2.0]), (10, [10.0, 20.0, 30.0])):
        folder = root / "org=a" / "year=2026" / f"month={month}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"cost": costs}), folder / "part-0.parquet")
    return root


def test_reads_inside_and_refuses_outside(tmp_path: Path) -> None:
    lake = months(tmp_path / "lake")
    (tmp_path / "secret.csv").write_text("x\n1\n")
    with restricted_connection([], [lake], memory_limit="1GB", threads=1) as connection:
        assert connection.sql(f"SELECT count(*) FROM '{lake}/**/*.parquet'").fetchall() == [(5,)]
        with pytest.raises(duckdb.PermissionException):
            connection.sql(f"SELECT * FROM read_csv('{tmp_path}/secret.csv')").fetchall()
        with pytest.raises(duckdb.Error):
            connection.execute("SET enable_external_access = true")


def test_a_window_over_one_partition_sums_that_partition_only(tmp_path: Path) -> None:
    # DuckDB 2.0.1's window_self_join rewrite dropped the partition filter here (sum 63, not 60).
    lake = months(tmp_path / "lake")
    with restricted_connection([], [lake], memory_limit="1GB", threads=1) as connection:
        shares = connection.sql(
            f"SELECT cost / sum(cost) OVER (PARTITION BY org) AS share "
            f"FROM read_parquet('{lake}/*/*/*/*.parquet', hive_partitioning = true) "
            "WHERE year = 2026 AND month = 10"
        ).fetchall()
    assert sum(share for (share,) in shares) == pytest.approx(1.0)
