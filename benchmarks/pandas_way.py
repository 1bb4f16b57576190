"""Workload 3, the pandas way: the same ingest and `cost_daily` as the original stack would do
them with pandas and pyarrow (`boto3 pandas pyarrow`; the files are local here, so no boto3).

Ingest, one delivery file at a time (so memory follows the file, not the month): read it into a
DataFrame, rename legacy columns to the canonical (CUR 2.0) names, turn the flat tag, product,
cost category and discount columns into maps (vectorized with numpy, no Python loop per row),
add the lineage columns, cast to the canonical schema and write zstd Parquet. `cost_daily`: read
the normalized month's needed columns, compute the amortized cost and the charge category, group
by day, account, service, usage type, operation, region and line item type, write Parquet.
Money stays float64 (the pipeline sums exact decimals), which only makes pandas' job lighter.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.measure import Timer
from finops_platform.lib.cur.normalize import LEGACY_ALIASES
from finops_platform.lib.cur.schema import (
    CANONICAL_SCHEMA,
    CUR2_COLUMNS,
    LEGACY_MAP_PREFIXES,
    MAP_COLUMNS,
    PRODUCT_COLUMNS,
)

GROUP_BY = [
    "usage_date",
    "account_id",
    "product_code",
    "usage_type",
    "operation",
    "region",
    "line_item_type",
    "charge_category",
]
# FOCUS charge category per line item type, as in sql/fragments/line_item_costs.sql; any other
# type (credits, discounts) is a Credit.
CHARGE_CATEGORIES = {
    **dict.fromkeys(
        ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"], "Usage"
    ),
    **dict.fromkeys(
        ["RIFee", "Fee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee"], "Purchase"
    ),
    "Tax": "Tax",
    "Refund": "Adjustment",
}


def run(params: dict[str, Any], timer: Timer) -> dict[str, Any]:
    out = Path(params["scratch"]) / "normalized"
    out.mkdir()
    with timer:
        for index, path in enumerate(params["files"]):
            table = normalize(pq.read_table(path).to_pandas(), path)
            pq.write_table(table, out / f"part-{index}.parquet", compression="zstd")
        ingested = timer.elapsed()
        daily = cost_daily(out)
        daily.to_parquet(Path(params["scratch"]) / "cost_daily.parquet", compression="zstd")
    return {
        "rows": params["rows"],
        "ingest_seconds": ingested,
        "cost_daily_seconds": timer.seconds - ingested,
        "cost_daily_rows": len(daily),
    }


def normalize(frame: pd.DataFrame, source: str) -> pa.Table:
    """One delivery file as a table of the canonical schema."""
    columns: dict[str, object] = {}
    for column, target in CUR2_COLUMNS.items():
        name = column if column in frame else LEGACY_ALIASES.get(column)
        if name in frame:
            columns[column] = pa.array(frame[name]).cast(target)
        elif column in MAP_COLUMNS:
            prefix = LEGACY_MAP_PREFIXES[column]
            flat = sorted(
                n
                for n in frame.columns
                if n.startswith(prefix) and not (column == "product" and n in PRODUCT_COLUMNS)
            )
            columns[column] = map_column(frame[flat], prefix, target)
        else:
            columns[column] = pa.nulls(len(frame), target)
    lineage = {
        "x_source_file": source,
        "x_source_format": "legacy",
        "x_assembly_id": None,
        "x_ingestion_time": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    for column, value in lineage.items():
        columns[column] = pa.array([value] * len(frame), CANONICAL_SCHEMA.field(column).type)
    return pa.table(columns, schema=CANONICAL_SCHEMA)


def map_column(flat: pd.DataFrame, prefix: str, target: pa.MapType) -> pa.Array:
    """Flat `<prefix><key>` columns as one map per row; empty values are left out."""
    values = flat.to_numpy(dtype=object)
    keep = pd.notna(values)
    if pa.types.is_string(target.item_type):
        keep &= values != ""
    # Row-major: the kept entries of a row are contiguous, in column order.
    rows, columns = np.nonzero(keep)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(flat)))])
    keys = np.array([name.removeprefix(prefix) for name in flat.columns], dtype=object)
    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()),
        pa.array(keys[columns], pa.string()),
        pa.array(values[rows, columns], target.item_type),
    )


def cost_daily(normalized: Path) -> pd.DataFrame:
    """The month's daily cost, from the normalized files, the CID amortized-cost formula."""
    frame = pq.read_table(
        normalized,
        columns=[
            "line_item_usage_start_date",
            "line_item_usage_account_id",
            "line_item_product_code",
            "line_item_usage_type",
            "line_item_operation",
            "product_region_code",
            "line_item_line_item_type",
            "line_item_unblended_cost",
            "pricing_public_on_demand_cost",
            "line_item_usage_amount",
            "savings_plan_savings_plan_effective_cost",
            "savings_plan_total_commitment_to_date",
            "savings_plan_used_commitment",
            "reservation_effective_cost",
            "reservation_unused_amortized_upfront_fee_for_billing_period",
            "reservation_unused_recurring_fee",
            "reservation_reservation_a_r_n",
        ],
    ).to_pandas()
    kind = frame["line_item_line_item_type"]
    unblended = frame["line_item_unblended_cost"]
    amortized = np.select(
        [
            kind == "SavingsPlanCoveredUsage",
            kind == "SavingsPlanRecurringFee",
            kind.isin(["SavingsPlanNegation", "SavingsPlanUpfrontFee"]),
            kind == "DiscountedUsage",
            kind == "RIFee",
            (kind == "Fee") & (frame["reservation_reservation_a_r_n"].fillna("") != ""),
        ],
        [
            frame["savings_plan_savings_plan_effective_cost"].fillna(0),
            frame["savings_plan_total_commitment_to_date"].fillna(0)
            - frame["savings_plan_used_commitment"].fillna(0),
            0.0,
            frame["reservation_effective_cost"].fillna(0),
            frame["reservation_unused_amortized_upfront_fee_for_billing_period"].fillna(0)
            + frame["reservation_unused_recurring_fee"].fillna(0),
            0.0,
        ],
        default=unblended,
    )
    daily = pd.DataFrame(
        {
            "usage_date": frame["line_item_usage_start_date"].dt.floor("D"),
            "account_id": frame["line_item_usage_account_id"],
            "product_code": frame["line_item_product_code"],
            "usage_type": frame["line_item_usage_type"],
            "operation": frame["line_item_operation"],
            "region": frame["product_region_code"],
            "line_item_type": kind,
            "charge_category": kind.map(CHARGE_CATEGORIES).fillna("Credit"),
            "unblended_cost": unblended,
            "amortized_cost": amortized,
            "public_cost": frame["pricing_public_on_demand_cost"],
            "usage_amount": frame["line_item_usage_amount"],
        }
    )
    return (
        daily.groupby(GROUP_BY, dropna=False, observed=True)
        .agg(
            unblended_cost=("unblended_cost", "sum"),
            amortized_cost=("amortized_cost", "sum"),
            public_cost=("public_cost", "sum"),
            usage_amount=("usage_amount", "sum"),
            line_items=("unblended_cost", "size"),
        )
        .reset_index()
    )
