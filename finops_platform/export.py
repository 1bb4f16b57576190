"""One month of a catalog table written to a file for other tools (`finops export`).

Read through the engine as any query is, so a view (focus_cost) is computed for the month as it
is written; streamed a batch at a time (`EngineSession.query_batches`, `output.write_export`)
into `<output>.partial`, renamed over the output only when whole.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from finops_platform.defs.curated.tables import focus_datasets
from finops_platform.lib.catalog.base import CatalogTable
from finops_platform.lib.cur.schema import PARTITION_COLUMNS
from finops_platform.lib.engine.base import QueryEngine
from finops_platform.output import write_export

FORMATS = (".parquet", ".csv")


class ExportError(ValueError):
    """A table that cannot be exported by month; the message says why."""


def output_format(output: Path) -> str:
    """The file format `output` names by its suffix (".parquet" or ".csv")."""
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{str(output)!r} ends in neither .parquet nor .csv")
    return suffix


def export_month(
    engine: QueryEngine, database: str, table: CatalogTable, month: dt.date, output: Path
) -> int:
    """Write `month` of `table` to `output` (Parquet or CSV, by its suffix); returns the rows
    written. No file is written for a month without rows, and a failed export (a full disk)
    leaves a previous `output` as it was. A FOCUS dataset is written as FOCUS tools read it:
    FOCUS and x_ columns only, timestamps in UTC."""
    suffix = output_format(output)
    # A view (focus_cost) has no partition keys, but the partition columns of what it reads.
    partitioned_by = list(table.partition_keys) or [
        name for name in PARTITION_COLUMNS if name in table.columns
    ]
    if not {"year", "month"} <= set(partitioned_by):
        raise ExportError(
            f"{database}.{table.name} is not partitioned by year and month "
            f"(its partition keys: {', '.join(partitioned_by) or 'none'})"
        )
    sql = f'SELECT * FROM "{table.name}" WHERE year = {month.year} AND month = {month.month}'
    focus = table.name in focus_datasets()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    try:
        with engine.session(database) as session:
            rows = write_export(
                session.query_batches(sql),
                partial,
                as_csv=suffix == ".csv",
                focus_partition_keys=partitioned_by if focus else None,
            )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if rows:
        partial.replace(output)
    return rows
