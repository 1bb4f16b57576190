"""`finops demo-data`, `finops run` and `finops export` as a user runs them: progress on
stderr, data on stdout, one line for a problem, Ctrl-C stops everything."""

from __future__ import annotations

import datetime as dt
import errno
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from click.testing import Result

from finops_platform.lib.engine.duckdb import DuckDBSession
from finops_platform.sample.split import CLUSTERS, ECS_CLUSTERS
from finops_platform_tests.cli.support import PROGRESS, finops, messages, one_error
from finops_platform_tests.conftest import WriteConfig, tenant_entry

FINOPS = Path(sys.executable).parent / "finops"
MONTH = f"{dt.datetime.now(dt.UTC).date():%Y-%m}"
YEAR, MONTH_NUMBER = int(MONTH[:4]), int(MONTH[5:])


@pytest.fixture
def delivered(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    """One tenant with a demo delivery of the current month (not loaded)."""
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source)])
    result = finops(
        "demo-data",
        "--tenant",
        "acme",
        "--months",
        "1",
        "--rows-per-month",
        "600",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"writing acme {MONTH}: 600 rows, legacy CUR, into {source} ..."
    ]
    (row,) = json.loads(result.stdout)
    assert row["tenant"] == "acme" and row["rows"] == 600
    return source


@pytest.fixture
def loaded(delivered: Path) -> Path:
    result = finops("run", "--format", "json")
    assert result.exit_code == 0, result.output
    return delivered


def test_run_prints_progress_on_stderr_and_json_on_stdout(delivered: Path) -> None:
    result = finops("run", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["tenant"], r["month"], r["status"]) for r in rows] == [
        ("acme", MONTH, "ok"),
        ("(all tenants)", MONTH, "ok"),
    ]
    assert rows[0]["rows"] == 600 and rows[0]["checks"] == "17/17 passed"
    lines = result.stderr.splitlines()
    assert messages(result.stderr) == []  # progress only: no Dagster log lines
    assert lines[0] == f"[1/1] running acme {MONTH} ..."
    assert f"[1/1] acme {MONTH}: raw_cur ..." in lines
    assert f"[1/1] acme {MONTH}: tb_cur_raw ..." in lines


def test_a_failed_month_shows_its_reason_without_stack_traces(delivered: Path) -> None:
    (data_file,) = delivered.rglob("*.parquet")
    data_file.write_bytes(b"not parquet")
    result = finops("run")
    assert "Traceback" not in result.output and "dagster - ERROR" not in result.output
    assert "not a readable Parquet file" in result.stdout
    one_error(result, "1 of 1 partition(s) failed", f"acme {MONTH}", code=1)


def export(
    table: str, output: Path, scope: tuple[str, ...] = ("--tenant", "acme"), month: str = MONTH
) -> Result:
    """`finops export TABLE <scope> --month M --output OUTPUT`."""
    return finops("export", table, *scope, "--month", month, "--output", str(output))


def test_demo_data_writes_a_gzip_csv_report_that_runs(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source)])
    written = finops(
        "demo-data", "--months", "1", "--rows-per-month", "600", "--cur-format", "legacy-csv"
    )
    assert written.exit_code == 0, written.output
    assert "600 rows, legacy-csv CUR" in written.stderr
    (manifest,) = source.glob("acme-cur/*/acme-cur-Manifest.json")
    assert json.loads(manifest.read_bytes())["contentType"] == "text/csv"
    (part,) = source.rglob("*.csv.gz")
    assert part.relative_to(manifest.parent).parts[1:] == ("acme-cur-1.csv.gz",)  # assembly dir
    result = finops("run", "--format", "json")
    assert result.exit_code == 0, result.output
    (row, _) = json.loads(result.stdout)
    assert (row["status"], row["rows"], row["checks"]) == ("ok", 600, "17/17 passed")


def test_demo_data_writes_a_cur2_csv_export_that_runs(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source)])
    written = finops(
        "demo-data", "--months", "1", "--rows-per-month", "600", "--cur-format", "cur2-csv"
    )
    assert written.exit_code == 0, written.output
    (manifest,) = source.glob("acme-cur/metadata/BILLING_PERIOD=*/acme-cur-Manifest.json")
    (part,) = source.glob("acme-cur/data/BILLING_PERIOD=*/*")
    assert part.name == "acme-cur-00001.csv.gz"
    assert json.loads(manifest.read_bytes())["dataFiles"][0].endswith("/acme-cur-00001.csv.gz")
    result = finops("run", "--format", "json")
    assert result.exit_code == 0, result.output
    (row, _) = json.loads(result.stdout)
    assert (row["status"], row["rows"], row["checks"]) == ("ok", 600, "17/17 passed")


@pytest.mark.parametrize(
    ("split", "platforms"),
    [((), {"eks"}), (("eks,ecs",), {"eks", "ecs"})],
    ids=["eks", "eks-and-ecs"],
)
def test_demo_data_writes_a_zip_report_with_split_rows_that_runs(
    split: tuple[str, ...],
    platforms: set[str],
    tmp_path: Path,
    finops_home: Path,
    write_config: WriteConfig,
) -> None:
    """`--split-cost-allocation` alone writes EKS pods, as it always did; `eks,ecs` ECS tasks
    too, each instance a node or a container instance."""
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source)])
    options = ("--csv-compression", "ZIP", "--split-cost-allocation", *split)
    written = finops(
        "demo-data", "--months", "1", "--rows-per-month", "600", "--cur-format", "legacy-csv",
        *options,
    )  # fmt: skip
    assert written.exit_code == 0, written.output
    (part,) = source.rglob("*.csv.*")
    assert part.name == "acme-cur-1.csv.zip"
    result = finops("run", "--format", "json")
    assert result.exit_code == 0, result.output
    (row, _) = json.loads(result.stdout)
    assert (row["status"], row["checks"]) == ("ok", "17/17 passed") and row["rows"] > 600
    workloads = finops(
        "query", "--tenant", "acme", "--format", "json",
        f"SELECT cluster, sum(line_items) AS n FROM cost_by_workload WHERE year = {YEAR} "
        f"AND month = {MONTH_NUMBER} GROUP BY cluster",
    )  # fmt: skip
    assert workloads.exit_code == 0, workloads.output
    shown = {r["cluster"]: r["n"] for r in json.loads(workloads.stdout)}
    assert sum(shown.values()) == row["rows"] - 600 and set(shown) <= {*CLUSTERS, *ECS_CLUSTERS}
    assert {"eks" if cluster in CLUSTERS else "ecs" for cluster in shown} == platforms


def test_export_writes_a_partition_to_parquet_and_csv(loaded: Path, tmp_path: Path) -> None:
    result = export("tb_cur_raw", tmp_path / "raw.parquet")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote 600 rows of custos_acme_db.tb_cur_raw {MONTH} to {tmp_path / 'raw.parquet'}\n"
    )
    raw = pq.read_table(tmp_path / "raw.parquet")
    assert raw.num_rows == 600
    assert set(raw.column("year").to_pylist()) == {YEAR}

    result = export("cost_daily", tmp_path / "daily.csv")
    assert result.exit_code == 0, result.output
    daily = pa_csv.read_csv(tmp_path / "daily.csv")
    query = finops(
        "query",
        "--tenant",
        "acme",
        "--format",
        "json",
        f"SELECT * FROM cost_daily WHERE year = {YEAR} AND month = {MONTH_NUMBER}",
    )
    queried = json.loads(query.stdout)
    assert daily.num_rows == len(queried) > 0
    assert daily.column_names == list(queried[0])

    result = export("cost_cross_org_monthly", tmp_path / "central.parquet", scope=("--central",))
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "central.parquet").num_rows > 0


def test_export_writes_maps_as_json_text_in_csv(loaded: Path, tmp_path: Path) -> None:
    result = export("tb_cur_raw", tmp_path / "raw.csv")
    assert result.exit_code == 0, result.output
    parquet = export("tb_cur_raw", tmp_path / "raw.parquet")
    assert parquet.exit_code == 0, parquet.output
    table = pq.read_table(tmp_path / "raw.parquet")
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    text = pa_csv.read_csv(
        tmp_path / "raw.csv",
        convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(nested, pa.string())),
    )
    assert text.num_rows == 600
    for name in nested:
        for value in text.column(name).to_pylist():
            assert value is None or isinstance(json.loads(value), dict | list)


def test_export_writes_focus_cost_as_a_focus_file(loaded: Path, tmp_path: Path) -> None:
    """FOCUS and x_ columns only (the catalog's org, year, month are neither), timestamps in
    UTC: in Parquet as UTC timestamps, in CSV as ISO 8601 text ending in Z."""
    result = export("focus_cost", tmp_path / "focus.parquet")
    assert result.exit_code == 0, result.output
    focus = pq.read_table(tmp_path / "focus.parquet")
    assert focus.num_rows >= 600  # a row per line item, and per unused commitment
    assert {"org", "year", "month"}.isdisjoint(focus.column_names)
    assert {"BilledCost", "ChargePeriodStart", "x_LineItemType"} <= set(focus.column_names)
    assert all(c[0].isupper() or c.startswith("x_") for c in focus.column_names)
    assert focus.schema.field("ChargePeriodStart").type.tz == "UTC"
    assert pa.types.is_decimal(focus.schema.field("BilledCost").type)

    result = export("focus_cost", tmp_path / "focus.csv")
    assert result.exit_code == 0, result.output
    text = pa_csv.read_csv(
        tmp_path / "focus.csv",
        convert_options=pa_csv.ConvertOptions(column_types={"ChargePeriodStart": pa.string()}),
    )
    assert text.column_names == focus.column_names and text.num_rows == focus.num_rows
    starts = text.column("ChargePeriodStart").to_pylist()
    assert all(len(s) == 20 and s[10] == "T" and s.endswith("Z") for s in starts)


def test_an_export_interrupted_by_a_full_disk_keeps_the_previous_file(
    loaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is streamed to `<output>.partial` and renamed when whole: a write that fails
    after the first batch (a full disk) leaves the earlier export as it was, and no partial."""
    target = tmp_path / "focus.parquet"
    assert export("focus_cost", target).exit_code == 0
    before = target.read_bytes()
    streamed = DuckDBSession.query_batches

    def disk_full_after_one_batch(session: DuckDBSession, sql: str) -> pa.RecordBatchReader:
        reader = streamed(session, sql)

        def batches() -> Iterator[pa.RecordBatch]:
            yield reader.read_next_batch()
            raise OSError(errno.ENOSPC, "No space left on device")

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    monkeypatch.setattr(DuckDBSession, "query_batches", disk_full_after_one_batch)
    one_error(export("focus_cost", target), f"cannot write {target}", "No space left on device")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("focus")) == [
        "focus.parquet"
    ]


def test_export_refuses_an_unknown_table_listing_the_tenants_tables(
    loaded: Path, tmp_path: Path
) -> None:
    one_error(
        export("nope", tmp_path / "x.parquet"),
        "tenant acme has no table nope",
        "tb_cur_raw",
        "cost_daily",
    )
    one_error(
        export("tb_cur_raw", tmp_path / "x.parquet", month="2026-01"),
        "no rows for 2026-01",
        "finops run --month 2026-01",
    )
    one_error(
        export("tb_cur_raw", tmp_path / "x.xlsx"),
        ".parquet",
        ".csv",
    )
    assert not list(tmp_path.glob("x.*"))


def test_ctrl_c_stops_the_whole_run_with_one_line_and_130(delivered: Path) -> None:
    process = subprocess.Popen(
        [str(FINOPS), "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line.rstrip("\n"))
        if line.endswith(": tb_cur_raw ...\n"):
            process.send_signal(signal.SIGINT)
            break
    stdout, rest = process.communicate(timeout=120)
    lines = seen + rest.splitlines()
    assert process.returncode == 130, lines
    assert all(PROGRESS.match(line) for line in lines[:-1]), lines
    assert lines[-1].startswith("interrupted: Ctrl-C stopped `finops run` during acme")
    assert "cross-org" not in rest  # nothing after the interrupted run started
    assert stdout == ""
