"""A generated month as AWS Data Exports' FOCUS 1.0 export (FOCUS_1_0_AWS), Parquet or gzip CSV.

The month is first generated as a CUR 2.0 export, then run through the project's own
normalization and `focus_cost.sql`; the FOCUS 1.0 columns are kept with AWS's names and types
(costs and quantities as doubles, timestamps in milliseconds), with the AWS columns from the
line item: `Tags` the resource tags with the keys AWS's Billing console names them
(`user:team`), `x_CostCategories` and `x_Discounts` its maps, `x_ServiceCode` its product code.
The files and manifest are laid out as any Data Exports export's (`parts`). So a FOCUS-sourced
month can be checked against the very `focus_cost` it was written from (the round trip).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa

from finops_platform.lib.cur.focus_source import FOCUS_1_0_COLUMNS
from finops_platform.lib.cur.names import csv_column
from finops_platform.lib.cur.normalize import Lineage, write_normalized
from finops_platform.lib.cur.schema import STRING_MAP
from finops_platform.lib.cur.sources import SourceFile, parquet_groups
from finops_platform.lib.engine.connection import restricted_connection
from finops_platform.lib.engine.duckdb import sql_identifier, sql_string_list
from finops_platform.lib.sql import Identifier, render_file
from finops_platform.sample.catalog import Format
from finops_platform.sample.parts import (
    PartWriter,
    clear_month,
    ground_truth_path,
    month_paths,
    write_manifest,
)

FOCUS_SCHEMA = pa.schema(list(FOCUS_1_0_COLUMNS.items()))
# The AWS columns taken from the line item rather than from focus_cost.
_FROM_LINE_ITEM = {
    "Tags": "raw.resource_tags",
    "x_CostCategories": "raw.cost_category",
    # A line item's discounts once: on its charge, not again on its unused-commitment row.
    "x_Discounts": (
        "CASE WHEN f.CommitmentDiscountStatus = 'Unused' THEN NULL ELSE raw.discount END"
    ),
    "x_ServiceCode": "f.x_ProductCode",
}
_SCHEMA = "export"


def _select(focus_sql: str) -> str:
    """focus_cost's rows with FOCUS 1.0's columns, joined to their line item for its maps."""
    columns = []
    for name, kind in FOCUS_1_0_COLUMNS.items():
        value = _FROM_LINE_ITEM.get(name, f"f.{sql_identifier(name)}")
        if pa.types.is_floating(kind):
            value = f"CAST({value} AS DOUBLE)"
        columns.append(f"{value} AS {sql_identifier(name)}")
    return (
        f"SELECT {', '.join(columns)} FROM ({focus_sql}) AS f "
        f"LEFT JOIN {_SCHEMA}.tb_cur_raw AS raw ON raw.identity_line_item_id = f.x_LineItemId "
        "AND raw.line_item_usage_start_date = f.ChargePeriodStart "
        "ORDER BY f.ChargePeriodStart, f.x_LineItemId, f.ChargeCategory, f.EffectiveCost"
    )


def _aws_tag_keys(tags: pa.ChunkedArray) -> pa.Array:
    """Resource tag keys as AWS's Billing console names them: `user_team` is `user:team`."""
    spelled: dict[str, str] = {}

    def spell(key: str) -> str:
        if key not in spelled:
            spelled[key] = csv_column(f"resource_tags_{key}")[1]
        return spelled[key]

    return pa.array(
        [None if m is None else [(spell(k), v) for k, v in m] for m in tags.to_pylist()],
        STRING_MAP,
    )


def focus_rows(cur2_files: list[Path], month: dt.date) -> pa.Table:
    """The FOCUS 1.0 export of a generated CUR 2.0 month (its Parquet files)."""
    where = f"generated month {month:%Y-%m}"
    with tempfile.TemporaryDirectory(prefix="finops-focus-") as scratch:
        out = Path(scratch)
        with restricted_connection(cur2_files, [out], memory_limit="2GB", threads=2) as con:
            sources = [SourceFile(path, path.as_uri()) for path in cur2_files]
            lineage = Lineage("cur2", None, dt.datetime(2000, 1, 1))
            written = write_normalized(con, parquet_groups(sources, where), lineage, out, where)
            con.execute(f"CREATE SCHEMA {_SCHEMA}")
            con.execute(
                f"CREATE VIEW {_SCHEMA}.tb_cur_raw AS SELECT *, 'demo' AS org, "
                f"{month.year} AS year, {month.month} AS month "
                f"FROM read_parquet({sql_string_list([str(p) for p in written])})"
            )
            params = {
                "database": Identifier(_SCHEMA),
                "org": "demo",
                "year": month.year,
                "month": month.month,
            }
            focus_sql = render_file("curated/focus_cost.sql", params, "duckdb")
            table = con.sql(_select(focus_sql)).to_arrow_table()
    table = table.set_column(
        table.schema.get_field_index("Tags"), "Tags", _aws_tag_keys(table["Tags"])
    )
    return table.cast(FOCUS_SCHEMA)


def write_focus_export(
    root: Path,
    cur2_files: list[Path],
    *,
    month: dt.date,
    assembly: str,
    fmt: Format,
    name: str,
    rows_per_file: int,
) -> tuple[list[Path], Path, int]:
    """Write the generated CUR 2.0 month `cur2_files` under `root` as a FOCUS export of `fmt`
    (`focus`: Parquet, `focus-csv`: gzip CSV), parts first, the manifest last; returns the
    parts, the manifest and the number of rows."""
    table = focus_rows(cur2_files, month)
    data_dir, manifest_path = month_paths(root, name, month, fmt, assembly)
    clear_month(data_dir, manifest_path)
    writer = PartWriter(data_dir, name, FOCUS_SCHEMA, rows_per_file, fmt)
    writer.write(table)
    files = writer.close()
    write_manifest(
        manifest_path,
        root,
        files,
        name=name,
        month=month,
        fmt=fmt,
        assembly=assembly,
        schema=FOCUS_SCHEMA,
    )
    return files, manifest_path, table.num_rows


def copy_ground_truth(scratch: Path, root: Path, name: str, month: dt.date) -> None:
    """A shaped month's ground truth, from where the CUR 2.0 month was made to the export."""
    made = ground_truth_path(scratch, name, month)
    if made.exists():
        target = ground_truth_path(root, name, month)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, target)
