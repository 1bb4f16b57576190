"""The entry point: `generate_month` writes one billing month the way AWS delivers it (data
parts first, manifest last), planning the month's series and then streaming its rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
from tqdm import tqdm

from finops_platform.lib.cur.focus_source import FOCUS_FORMATS
from finops_platform.lib.cur.manifest import CSV_SUFFIXES, GZIP
from finops_platform.sample.catalog import (
    _ACCOUNTS,
    _FMT_CODE,
    _MIN_SERIES,
    _PRODUCT_CODES,
    _SAVINGS_PLANS,
    _UNIT,
    _USAGE,
    MIN_ROWS,
    Format,
)
from finops_platform.sample.context import _CUR2_SCHEMA, _LEGACY_SCHEMA, _Context
from finops_platform.sample.focus_export import copy_ground_truth, write_focus_export
from finops_platform.sample.parts import (
    PartWriter,
    clear_month,
    ground_truth_path,
    month_paths,
    write_manifest,
)
from finops_platform.sample.plan import (
    FORCED_SERIES,
    _draw_groups,
    _expand_groups,
    _Plan,
    _reservation_units,
    _sp_commitments,
    _sp_rates,
    _tail_series,
)
from finops_platform.sample.rows import _blocks
from finops_platform.sample.shape import TrueAnomaly, ground_truth, plan_shape, write_ground_truth
from finops_platform.sample.split import (
    SplitPlatforms,
    split_key,
    split_platforms,
    split_schema,
    with_split_rows,
)
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
    # A shaped month's injected anomalies (also written to `ground_truth_path`).
    anomalies: list[TrueAnomaly] | None = None


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
    shape_span: tuple[dt.date, dt.date] | None = None,
    csv_compression: str = GZIP,
    split_cost_allocation: SplitPlatforms = False,
) -> GeneratedDelivery:
    """Write one billing month of sample CUR under `source_root`, the manifest last.

    `until` makes a month-to-date delivery: no usage starts at or after it. The same arguments
    always give the same data; the assembly id is derived from them unless given.
    `shape_span` (the first and last month of the tenant's demo data) shapes the month with a
    trend, weekly seasonality and injected anomalies (sample/shape.py), written as ground truth.
    `csv_compression` (GZIP or ZIP) is how a CSV report's parts are compressed.
    `split_cost_allocation` adds the pod and task rows of split cost allocation data (`split`):
    True (EKS pods), or the platforms, "eks", "ecs" or "eks,ecs". They cost nothing themselves,
    so the unblended total stays; `rows` counts them too.
    A FOCUS export (`focus`, `focus-csv`) is the month generated as CUR 2.0 and written as AWS's
    FOCUS 1.0 export of it (`focus_export`); `rows` counts the CUR line items asked for.
    """
    if fmt in FOCUS_FORMATS:
        arguments = {
            "month": month,
            "rows": rows,
            "seed": seed,
            "name": name,
            "until": until,
            "rows_per_file": rows_per_file,
            "chunk_rows": chunk_rows,
            "progress": progress,
            "shape_span": shape_span,
            "split_cost_allocation": split_cost_allocation,
        }
        return _generate_focus_month(source_root, fmt, assembly_id, arguments)
    _check_arguments(month, rows, fmt, seed, rows_per_file, chunk_rows)
    if csv_compression not in CSV_SUFFIXES:
        raise ValueError(f"csv_compression must be one of {', '.join(CSV_SUFFIXES)}")
    platforms = split_platforms(split_cost_allocation)
    shaped = shape_span is not None
    plan = _plan(_Context.create(month, rows, fmt, seed, until, shaped), shaped=shaped)
    if shape_span is not None:
        plan.shape = plan_shape(seed, month, shape_span, _largest_usage(plan))
    assembly = assembly_id or _derive_assembly_id(
        seed,
        month,
        fmt,
        rows,
        until,
        name + split_key(platforms),
        shape_span,
    )
    data_dir, manifest_path = month_paths(source_root, name, month, fmt, assembly)
    clear_month(data_dir, manifest_path)
    schema = _CUR2_SCHEMA if fmt.startswith("cur2") else _LEGACY_SCHEMA
    if platforms:
        schema = split_schema(schema, fmt, platforms)
    writer = PartWriter(data_dir, name, schema, rows_per_file, fmt, csv_compression)
    to_table = {
        "legacy": _legacy_table,
        "legacy-csv": functools.partial(_legacy_table, csv=True),
        "cur2": _cur2_table,
        "cur2-csv": _cur2_table,
    }[fmt]
    total_units, written = 0, 0
    rows = plan.ctx.rows  # a shaped month's: whole series of its hours
    with tqdm(total=rows, unit="rows", file=sys.stderr, disable=not progress) as bar:
        for block in _blocks(plan, chunk_rows):
            total_units += block.unblended_total()
            table = to_table(block, plan)
            if platforms:
                table = with_split_rows(table, schema, fmt, platforms)
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
    anomalies = None
    if plan.shape is not None:
        anomalies = ground_truth(
            plan.shape,
            plan.shaped_cost / _UNIT,
            plan.shaped_added / _UNIT,
            delivered_days=-(-plan.ctx.hours // 24),
        )
        write_ground_truth(ground_truth_path(source_root, name, month), plan.shape, anomalies)
    return GeneratedDelivery(
        anomalies=anomalies,
        data_files=files,
        manifest_path=manifest_path,
        assembly_id=assembly,
        rows=written,
        unblended_total=Decimal(total_units).scaleb(-10),
        month=month,
        fmt=fmt,
    )


def _generate_focus_month(
    source_root: Path, fmt: Format, assembly_id: str | None, arguments: dict
) -> GeneratedDelivery:
    """The month as CUR 2.0 in a scratch folder, then as a FOCUS export under `source_root`."""
    derived = [arguments[k] for k in ("seed", "month")] + [fmt, arguments["rows"]]
    assembly = assembly_id or _derive_assembly_id(
        *derived, arguments["until"], arguments["name"], arguments["shape_span"]
    )
    with tempfile.TemporaryDirectory(prefix="finops-focus-month-") as scratch:
        cur2 = generate_month(Path(scratch), fmt="cur2", assembly_id=assembly, **arguments)
        files, manifest_path, written = write_focus_export(
            source_root,
            cur2.data_files,
            month=cur2.month,
            assembly=assembly,
            fmt=fmt,
            name=arguments["name"],
            rows_per_file=arguments["rows_per_file"],
        )
        copy_ground_truth(Path(scratch), source_root, arguments["name"], cur2.month)
    return GeneratedDelivery(
        data_files=files,
        manifest_path=manifest_path,
        assembly_id=assembly,
        rows=written,
        unblended_total=cur2.unblended_total,
        month=cur2.month,
        fmt=fmt,
        anomalies=cur2.anomalies,
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
    seed: int,
    month: dt.date,
    fmt: str,
    rows: int,
    until: dt.datetime | None,
    name: str,
    shape_span: tuple[dt.date, dt.date] | None = None,
) -> str:
    """Derived from every argument that changes the data: a restatement gets a new id."""
    key = f"{seed}|{month}|{fmt}|{rows}|{until.isoformat() if until else ''}|{name}"
    if shape_span is not None:  # unshaped months keep the ids they always had
        key += f"|shaped {shape_span[0]:%Y-%m}..{shape_span[1]:%Y-%m}"
    return str(_stable_uuid(key))


_MONTH_HOURS = 31 * 24


def _largest_usage(plan: _Plan) -> dict[str, list[str]]:
    """Services and accounts by their planned on-demand usage cost, largest first."""
    usage = plan.kind == _USAGE
    cost = plan.scale[usage] * plan.ctx.od_rate[plan.offering[usage]]
    by_code = np.bincount(plan.code[usage], cost, minlength=len(_PRODUCT_CODES))
    by_account = np.bincount(plan.account[usage], cost, minlength=len(_ACCOUNTS))
    return {
        "service": [_PRODUCT_CODES[i] for i in np.argsort(-by_code) if by_code[i] > 0],
        "account": [_ACCOUNTS[i].id for i in np.argsort(-by_account) if by_account[i] > 0],
    }


def _plan(ctx: _Context, shaped: bool = False) -> _Plan:
    """Usage groups sized to the row count, then the monthly tail, then the string tables.

    A shaped month's series run the whole delivered month, so its daily cost follows the shape.
    """
    length = ctx.hours if shaped else min(ctx.hours, max(1, ctx.rows // _MIN_SERIES))
    sp_start = ctx.rng.integers(0, ctx.hours - length + 1, size=len(_SAVINGS_PLANS))
    tail, pseudo = _tail_series(ctx, sp_start, length)
    hourly_rows = ctx.rows - int(tail["length"].sum())
    if shaped:  # as many series as a 31-day month of the rows holds, whatever the month
        hourly_tail = tail["length"] > 1  # SavingsPlanRecurringFee: one row an hour
        nominal_tail = int((~hourly_tail).sum() + hourly_tail.sum() * _MONTH_HOURS)
        series = max(FORCED_SERIES, (ctx.rows - nominal_tail) // _MONTH_HOURS)
        hourly_rows = series * length
        ctx.rows = hourly_rows + int(tail["length"].sum())
    groups = _draw_groups(ctx, hourly_rows, length, sp_start)
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
