"""Money prints as money, in every format; names are never silently lost."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from finops_platform_tests.cli.support import finops, one_error
from finops_platform_tests.conftest import WriteConfig, tenant_entry


@pytest.fixture
def acme(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> None:
    write_config([tenant_entry("acme", tmp_path / "source")])


def query(sql: str, fmt: str = "table") -> str:
    result = finops("query", "--tenant", "acme", "--format", fmt, sql)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_table_shows_every_digit_of_decimals_and_doubles(acme: None) -> None:
    out = query(
        "SELECT 1234567.891 AS d, CAST(1234567.891 AS DOUBLE) AS f, CAST(63203.6 AS DOUBLE) AS g, "
        "CAST('12345678901234.1234567890' AS DECIMAL(38, 10)) AS big"
    )
    values = out.splitlines()[2].split()
    assert values == ["1234567.891", "1234567.891", "63203.6", "12345678901234.1234567890"]
    assert "e+" not in out


def test_duplicate_column_names_are_refused(acme: None) -> None:
    one_error(
        finops("query", "--tenant", "acme", "SELECT 1 AS a, 2 AS a"),
        "more than one column named a",
        "AS",
    )


def test_csv_writes_maps_lists_and_structs_as_json(acme: None) -> None:
    out = query(
        "SELECT MAP(ARRAY['team', 'env'], ARRAY['data', 'prod']) AS tags, ARRAY[1, 2] AS l, "
        "CAST(ROW(1, 'x') AS ROW(a INT, b VARCHAR)) AS s, CAST(1.10 AS DECIMAL(10, 2)) AS cost",
        "csv",
    )
    (row,) = csv.DictReader(io.StringIO(out))
    assert json.loads(row["tags"]) == {"team": "data", "env": "prod"}
    assert json.loads(row["l"]) == [1, 2]
    assert json.loads(row["s"]) == {"a": 1, "b": "x"}
    assert row["cost"] == "1.10"


def test_json_keeps_decimals_exact_as_strings_and_dates_iso(acme: None) -> None:
    (row,) = json.loads(
        query(
            "SELECT CAST('12345678901234.1234567890' AS DECIMAL(38, 10)) AS cost, "
            "CAST(0.1 AS DOUBLE) AS ratio, 3 AS n, DATE '2026-11-01' AS day, "
            "TIMESTAMP '2026-11-01 03:04:05' AS at, MAP(ARRAY['k'], ARRAY[1]) AS m, "
            "sum(x) AS whole FROM (VALUES (1), (2)) AS t(x)",
            "json",
        )
    )
    assert row == {
        "cost": "12345678901234.1234567890",
        "ratio": 0.1,
        "n": 3,
        "day": "2026-11-01",
        "at": "2026-11-01T03:04:05",
        "m": {"k": 1},
        "whole": 3,  # a whole decimal (DuckDB's sum of integers) stays a number
    }


def test_tenant_list_and_sla_have_every_format(acme: None) -> None:
    for args in (["tenant", "list"], ["sla"]):
        listed = finops(*args, "--format", "json")
        assert listed.exit_code in (0, 1), listed.output
        (row,) = json.loads(listed.stdout)
        assert row["tenant"] == "acme"
        as_csv = finops(*args, "--format", "csv").stdout
        assert next(csv.DictReader(io.StringIO(as_csv)))["tenant"] == "acme"
        assert "acme" in finops(*args).stdout
    (tenant,) = json.loads(finops("tenant", "list", "--format", "json").stdout)
    assert tenant["active"] is True and tenant["sla_hours"] == 24


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_run_progress_rewrites_the_step_line_only_on_a_terminal() -> None:
    import datetime as dt

    from finops_platform.output import RunProgress

    months = [dt.date(2026, 6, 1), dt.date(2026, 7, 1)]
    for stream, live in ((io.StringIO(), False), (_Terminal(), True)):
        progress = RunProgress(3, stream=stream)
        progress.run("acme", months)
        progress.step("acme", months, "raw_cur")
        progress.step("acme", months, "tb_cur_raw")
        progress.close()
        text = stream.getvalue()
        assert ("\r" in text) == live
        lines = [line.split("\r\033[K")[-1] for line in text.split("\n") if line]
        assert lines[0] == "[1-2/3] running acme 2026-06..2026-07 ..."
        if not live:
            assert lines[1:] == [
                "[1-2/3] acme 2026-06..2026-07: raw_cur ...",
                "[1-2/3] acme 2026-06..2026-07: tb_cur_raw ...",
            ]


def test_an_export_is_written_a_batch_at_a_time(tmp_path: Path) -> None:
    """`write_export` writes each batch as it comes: a Parquet row group per batch, one CSV
    header, a FOCUS dataset's partition columns dropped and its times in UTC in every batch."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from finops_platform.output import write_export

    def batch(day: int) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict(
            {
                "ChargePeriodStart": pa.array([dt.datetime(2026, 9, day)] * 2, pa.timestamp("us")),
                "Tags": pa.array([[("team", "a")], []], pa.map_(pa.string(), pa.string())),
                "year": [2026, 2026],
                "month": [9, 9],
            }
        )

    def reader() -> pa.RecordBatchReader:
        batches = [batch(day) for day in (1, 2, 3)]
        return pa.RecordBatchReader.from_batches(batches[0].schema, batches)

    keys = ["year", "month"]
    parquet, text = tmp_path / "focus.parquet", tmp_path / "focus.csv"
    assert write_export(reader(), parquet, as_csv=False, focus_partition_keys=keys) == 6
    assert pq.ParquetFile(parquet).metadata.num_row_groups == 3
    written = pq.read_table(parquet)
    assert written.column_names == ["ChargePeriodStart", "Tags"]
    assert written.schema.field("ChargePeriodStart").type.tz == "UTC"

    assert write_export(reader(), text, as_csv=True, focus_partition_keys=keys) == 6
    lines = text.read_text().splitlines()
    assert lines[0] == '"ChargePeriodStart","Tags"' and len(lines) == 7
    assert lines[1] == '"2026-09-01T00:00:00Z","{""team"": ""a""}"'
    assert pa_csv.read_csv(text).num_rows == 6

    schema = batch(1).schema
    for batches in ([], [batch(1).slice(0, 0)]):  # no batch, or only an empty one
        empty = pa.RecordBatchReader.from_batches(schema, batches)
        assert write_export(empty, tmp_path / "none.parquet", as_csv=False) == 0
        assert not (tmp_path / "none.parquet").exists()
