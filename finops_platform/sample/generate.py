"""The entry point: `generate_month` writes one billing month the way AWS delivers it (data
parts first, manifest last), planning the month's series and then streaming its rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
from tqdm import tqdm

from finops_platform.lib.cur.manifest import CSV_SUFFIXES, GZIP
from finops_platform.sample.catalog import _FMT_CODE, _MIN_SERIES, _SAVINGS_PLANS, MIN_ROWS, Format
from finops_platform.sample.context import _CUR2_SCHEMA, _LEGACY_SCHEMA, _Context
from finops_platform.sample.parts import PartWriter, clear_month, month_paths, write_manifest
from finops_platform.sample.plan import (
    _draw_groups,
    _expand_groups,
    _Plan,
    _reservation_units,
    _sp_commitments,
    _sp_rates,
    _tail_series,
)
from finops_platform.sample.rows import _blocks
from finops_platform.sample.split import split_schema, with_split_rows
from finops_platform.sample.strings import _build_strings, _stable_uuid
from finops_platform.sample.tables import _cur2_table, _legacy_table


@dataclass(frozen=True)
class GeneratedDelivery:
    """What `generate_month` wrote; `unblended_total` is the exact sum over all rows."""

    data_files: list[Path]
    manifest_path: Path
    assembly_id: str
    rows: int
    unblended_total: Decimal
    month: dt.date
    fmt: Format


# --- the entry point -----------------------------------------------------------------------


def generate_month(
    source_root: Path,
    *,
    month: dt.date,
    rows: int,
    fmt: Format,
    seed: int,
    name: str = "finops-demo",
    until: dt.datetime | None = None,
    assembly_id: str | None = None,
    rows_per_file: int = 2_000_000,
    chunk_rows: int = 250_000,
    progress: bool = False,
    csv_compression: str = GZIP,
    split_cost_allocation: bool = False,
) -> GeneratedDelivery:
    """Write one billing month of sample CUR under `source_root`, the manifest last.

    `until` makes a month-to-date delivery: no usage starts at or after it. The same arguments
    always give the same data; the assembly id is derived from them unless given.
    `csv_compression` (GZIP or ZIP) is how a CSV report's parts are compressed.
    `split_cost_allocation` adds the EKS pod rows of split cost allocation data (`split`): they
    cost nothing themselves, so the unblended total stays; `rows` counts them too.
    """
    _check_arguments(month, rows, fmt, seed, rows_per_file, chunk_rows)
    if csv_compression not in CSV_SUFFIXES:
        raise ValueError(f"csv_compression must be one of {', '.join(CSV_SUFFIXES)}")
    plan = _plan(_Context.create(month, rows, fmt, seed, until))
    assembly = assembly_id or _derive_assembly_id(
        seed, month, fmt, rows, until, name + ("|split" if split_cost_allocation else "")
    )
    data_dir, manifest_path = month_paths(source_root, name, month, fmt, assembly)
    clear_month(data_dir, manifest_path)
    schema = _CUR2_SCHEMA if fmt.startswith("cur2") else _LEGACY_SCHEMA
    if split_cost_allocation:
        schema = split_schema(schema, fmt)
    writer = PartWriter(data_dir, name, schema, rows_per_file, fmt, csv_compression)
    to_table = {
        "legacy": _legacy_table,
        "legacy-csv": functools.partial(_legacy_table, csv=True),
        "cur2": _cur2_table,
        "cur2-csv": _cur2_table,
    }[fmt]
    total_units, written = 0, 0
    with tqdm(total=rows, unit="rows", file=sys.stderr, disable=not progress) as bar:
        for block in _blocks(plan, chunk_rows):
            total_units += block.unblended_total()
            table = to_table(block, plan)
            if split_cost_allocation:
                table = with_split_rows(table, schema, fmt)
            writer.write(table)
            written += table.num_rows
            bar.update(block.size)
    files = writer.close()
    write_manifest(
        manifest_path,
        source_root,
        files,
        name=name,
        month=month,
        fmt=fmt,
        assembly=assembly,
        schema=schema,
        csv_compression=csv_compression,
    )
    return GeneratedDelivery(
        data_files=files,
        manifest_path=manifest_path,
        assembly_id=assembly,
        rows=written,
        unblended_total=Decimal(total_units).scaleb(-10),
        month=month,
        fmt=fmt,
    )


def _check_arguments(
    month: dt.date, rows: int, fmt: str, seed: int, rows_per_file: int, chunk_rows: int
) -> None:
    if month.day != 1:
        raise ValueError(f"month must be the first day of a month, got {month}")
    if fmt not in _FMT_CODE:
        raise ValueError(f"fmt must be one of {', '.join(_FMT_CODE)}, got {fmt!r}")
    if rows < MIN_ROWS:
        raise ValueError(f"rows must be at least {MIN_ROWS} to hold every line item type")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if rows_per_file < 1 or chunk_rows < 1:
        raise ValueError("rows_per_file and chunk_rows must be positive")


def _derive_assembly_id(
    seed: int, month: dt.date, fmt: str, rows: int, until: dt.datetime | None, name: str
) -> str:
    """Derived from every argument that changes the data: a restatement gets a new id."""
    key = f"{seed}|{month}|{fmt}|{rows}|{until.isoformat() if until else ''}|{name}"
    return str(_stable_uuid(key))


def _plan(ctx: _Context) -> _Plan:
    """Usage groups sized to the row count, then the monthly tail, then the string tables."""
    length = min(ctx.hours, max(1, ctx.rows // _MIN_SERIES))
    sp_start = ctx.rng.integers(0, ctx.hours - length + 1, size=len(_SAVINGS_PLANS))
    tail, pseudo = _tail_series(ctx, sp_start, length)
    groups = _draw_groups(ctx, ctx.rows - int(tail["length"].sum()), length, sp_start)
    series = _expand_groups(ctx, groups)
    tail["parent"] = len(series["kind"]) + np.arange(len(tail["kind"]))  # each its own
    merged = {key: np.concatenate([series[key], tail[key]]) for key in series}
    lengths = merged.pop("length")
    sp_rate = _sp_rates(ctx, merged)
    commit = _sp_commitments(merged, sp_rate)
    shares = np.array([p.upfront_share for p in _SAVINGS_PLANS])
    plan = _Plan(
        ctx=ctx,
        row_start=np.concatenate([[0], np.cumsum(lengths)[:-1]]),
        hourly_rows=int(series["length"].sum()),
        sp_rate=sp_rate,
        ri_units=_reservation_units(merged),
        sp_commit=commit,
        sp_upfront=np.rint(commit * shares).astype(np.int64),
        **merged,
    )
    _build_strings(plan, groups, ctx.offerings + pseudo)
    return plan
