"""What `finops` prints: rows as a table, CSV or JSON; `finops run`'s summary and progress.

Values print as the engine returned them: a Decimal with all its digits, a float as Python's
shortest exact repr, never re-parsed (tabulate would turn 1234567.891 into 1.23457e+06).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click
import pyarrow as pa
from tabulate import tabulate

if TYPE_CHECKING:
    from finops_platform.runner import PartitionReport
    from finops_platform.settings import Settings

FORMATS = ("table", "csv", "json")


def _text(value: object) -> str:
    """One value as table or CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # every digit, never an exponent
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(_json_value(value), ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_value(value: object) -> object:
    """One value for JSON: decimals as exact strings (whole ones, such as a sum of integers,
    as integers), dates and times as ISO strings."""
    if isinstance(value, Decimal):
        if value.is_finite() and value.as_tuple().exponent >= 0:
            return int(value)
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[object]], fmt: str) -> str:
    """Rows (one value per column, in column order) as an aligned table, CSV, or a JSON array
    of objects. Column names must be unique: JSON objects could not hold two of a name."""
    if len(set(columns)) != len(columns):
        raise ValueError(f"duplicate column names in {list(columns)}")
    if fmt == "json":
        return (
            json.dumps(
                [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows],
                ensure_ascii=False,
            )
            + "\n"
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(v) for v in row] for row in rows)
        return out.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    align = [
        "right"
        if any(row[i] is not None for row in rows)
        and all(_is_number(row[i]) for row in rows if row[i] is not None)
        else "left"
        for i in range(len(columns))
    ]
    cells = [[_text(v) for v in row] for row in rows]
    return (
        tabulate(cells, headers=list(columns), disable_numparse=True, colalign=align or None) + "\n"
    )


def _plain(value: object, kind: pa.DataType) -> object:
    """A value from `to_pylist` with maps as dicts (pyarrow gives a list of key-value pairs)."""
    if value is None:
        return None
    if pa.types.is_map(kind):
        return {k: _plain(v, kind.item_type) for k, v in value}
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [_plain(v, kind.value_type) for v in value]
    if pa.types.is_struct(kind):
        return {f.name: _plain(value[f.name], f.type) for f in kind}
    return value


def arrow_rows(table: pa.Table) -> list[list[object]]:
    """A query result's rows, by position: a name given twice keeps both columns."""
    columns = [[_plain(v, c.type) for v in c.to_pylist()] for c in table.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def _nested(kind: pa.DataType) -> bool:
    return pa.types.is_nested(kind)


def csv_ready(table: pa.Table) -> pa.Table:
    """The table with its maps, lists and structs as JSON text, which CSV can hold."""
    for i, column in enumerate(table.columns):
        if _nested(column.type):
            text = [
                None if v is None else json.dumps(_json_value(_plain(v, column.type)))
                for v in column.to_pylist()
            ]
            table = table.set_column(i, table.field(i).name, pa.array(text, pa.string()))
    return table


def focus_ready(
    table: pa.Table, partition_keys: Sequence[str], *, as_text: bool = False
) -> pa.Table:
    """A FOCUS dataset's partition as FOCUS tools read a file of it: the catalog's partition
    columns (not FOCUS columns, not `x_` ones) dropped, and timestamps in UTC, which the spec's
    date/time format requires and the lake leaves implicit. `as_text` (CSV) writes them in the
    spec's ISO 8601 form, `2018-10-01T00:00:00Z`."""
    import pyarrow.compute as pc

    table = table.drop_columns([c for c in partition_keys if c in table.column_names])
    for index, field in enumerate(table.schema):
        if not pa.types.is_timestamp(field.type):
            continue
        utc = table.column(index).cast(pa.timestamp(field.type.unit, tz="UTC"))
        if as_text:  # whole seconds (CUR times are); a fraction would fail the cast, not vanish
            seconds = utc.cast(pa.timestamp("s", tz="UTC"))
            utc = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        table = table.set_column(index, pa.field(field.name, utc.type), utc)
    return table


def write_export(
    batches: pa.RecordBatchReader,
    path: Path,
    *,
    as_csv: bool,
    focus_partition_keys: Sequence[str] | None = None,
) -> int:
    """Write a streamed result to `path` as Parquet (a row group a batch) or CSV (nested values
    as JSON text, `csv_ready`), one batch at a time, so memory follows a batch, not the month;
    a FOCUS dataset's batches are made `focus_ready` (`focus_partition_keys`: the catalog's
    partition columns it drops). Returns the rows written; writes nothing for none."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | pa_csv.CSVWriter | None = None
    rows = 0
    try:
        for batch in batches:
            if not batch.num_rows:  # a reader may hand over empty batches: no file for them
                continue
            table = pa.Table.from_batches([batch])
            if focus_partition_keys is not None:
                table = focus_ready(table, focus_partition_keys, as_text=as_csv)
            if as_csv:
                table = csv_ready(table)
            if writer is None:
                writer = (
                    pa_csv.CSVWriter(path, table.schema)
                    if as_csv
                    else pq.ParquetWriter(path, table.schema)
                )
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def format_dicts(columns: Sequence[str], rows: Sequence[dict], fmt: str) -> str:
    return format_rows(columns, [[row[c] for c in columns] for row in rows], fmt)


def _checks_cell(report: PartitionReport) -> str:
    if not report.checks:
        return "not run"
    failed = [f"{c.name} {c.severity}" for c in report.checks if not c.passed]
    passed = sum(c.passed for c in report.checks)
    summary = f"{passed}/{len(report.checks)} passed"
    return summary + (f"; failed: {', '.join(failed)}" if failed else "")


SUMMARY_COLUMNS = [
    "tenant",
    "month",
    "status",
    "rows",
    "unblended_cost",
    "checks",
    "run_id",
    "error",
]


def summary_rows(reports: list[PartitionReport]) -> list[list[object]]:
    """One row per partition, as data: numbers stay numbers (for CSV and JSON)."""
    return [
        [
            r.org_id,
            f"{r.month:%Y-%m}",
            "ok" if r.ok else "FAILED",
            r.rows,
            r.unblended_cost,
            _checks_cell(r),
            r.run_id,
            r.error,
        ]
        for r in reports
    ]


def print_summary(settings: Settings, reports: list[PartitionReport], fmt: str = "table") -> None:
    """The run's summary on stdout: a table with the failures' reasons and where to look next,
    or the rows alone as CSV or JSON."""
    if fmt != "table":
        click.echo(format_rows(SUMMARY_COLUMNS, summary_rows(reports), fmt), nl=False)
        return
    rows = [
        [
            r.org_id,
            f"{r.month:%Y-%m}",
            "ok" if r.ok else "FAILED",
            "" if r.rows is None else f"{r.rows:,}",
            "" if r.unblended_cost is None else f"{r.unblended_cost:,.2f}",
            _checks_cell(r),
        ]
        for r in reports
    ]
    headers = ["tenant", "month", "status", "rows", "unblended cost", "checks"]
    click.echo("\n" + tabulate(rows, headers=headers, disable_numparse=True))
    for report in reports:
        if report.error:
            click.echo(f"\n{report.org_id} {report.month:%Y-%m} (run {report.run_id}):")
            click.echo(f"  {report.error}")
    if reports:
        click.echo(_next_steps(settings, reports[0]))


def _next_steps(settings: Settings, last: PartitionReport) -> str:
    example = (
        "SELECT line_item_product_code, sum(line_item_unblended_cost) AS cost FROM tb_cur_raw "
        f"WHERE year = {last.month.year} AND month = {last.month.month} "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
    )
    return (
        "\nWhere to look next:\n"
        f'  finops query --tenant {last.org_id} "{example}"\n'
        f"  DAGSTER_HOME={settings.dagster_home} dagster dev -w workspace.yaml"
        "   (the UI: runs, assets by tenant x month, check results, stack traces)\n"
        f"  local lake and buckets: {settings.finops_home / 'buckets'}\n"
        f"  local catalog: {settings.finops_home / 'catalog'}"
    )


def _span(months: list[dt.date]) -> str:
    return f"{months[0]:%Y-%m}" + (f"..{months[-1]:%Y-%m}" if len(months) > 1 else "")


class RunProgress:
    """`finops run`'s progress on stderr: a line per Dagster run, `[2-3/6] running acme
    2026-06..2026-07 ...` (partitions 2 and 3 of the 6 planned), and the step that started,
    `[2-3/6] acme 2026-06..2026-07: raw_cur ...`. On a terminal the step line is rewritten in
    place; otherwise (a pipe, a log file) each step is a plain line of its own."""

    def __init__(self, partitions: int, cross_org_months: int = 0, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self.partitions = partitions
        self.done = 0  # tenant x month partitions whose run has started, before the current
        self.cross_org = 0
        self.label = ""
        self.live = self.stream.isatty()
        self._open = False  # a step line is on screen without its newline

    def _write(self, text: str, *, transient: bool = False) -> None:
        if self.live:
            self.stream.write("\r\033[K" if self._open else "")
            self.stream.write(text if transient else text + "\n")
            self._open = transient
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def run(self, org_id: str, months: list[dt.date]) -> None:
        from finops_platform.runner import CROSS_ORG_LABEL

        if org_id == CROSS_ORG_LABEL:
            self.cross_org += 1
            self.label = f"[cross-org {self.cross_org}]"
            self._write(f"{self.label} running cross-org {_span(months)} ...")
            return
        first, last = self.done + 1, self.done + len(months)
        self.done = last
        where = f"{first}" if first == last else f"{first}-{last}"
        self.label = f"[{where}/{self.partitions}]"
        self._write(f"{self.label} running {org_id} {_span(months)} ...")

    def step(self, org_id: str, months: list[dt.date], step: str) -> None:
        self._write(f"{self.label} {org_id} {_span(months)}: {step} ...", transient=True)

    def close(self) -> None:
        if self._open:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._open = False
