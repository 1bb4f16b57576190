"""Query results as the pages show them: pandas frames with money rounded to the cent.

The curated tables hold money as DECIMAL(38, 10). Each amount is rounded to the cent once, here,
exactly (half-even on the decimal), so a figure on screen is the curated figure to the cent and a
chart and the table beside it show the same numbers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import pyarrow as pa

CENT = Decimal("0.01")


def cents(value: Decimal | float | int | None) -> float | None:
    """An amount rounded to the cent, as a float (None stays None)."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as a DataFrame: decimals to cents (floats), dates stay dates."""
    frame = table.to_pandas(date_as_object=True)
    for field in table.schema:
        if pa.types.is_decimal(field.type):
            if field.type.scale == 0:
                frame[field.name] = (
                    frame[field.name].map(lambda v: None if v is None else int(v)).astype("Int64")
                )
            else:
                frame[field.name] = frame[field.name].map(cents).astype("float64")
    return frame


def format_money(value: float | None) -> str:
    """`$12,345.67`, `-$5.00`, or `n/a`."""
    if value is None or pd.isna(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def format_change(change: float | None, previous: float | None) -> str | None:
    """`+$12.34 (+5.2%)` versus the previous amount, or None without one."""
    if change is None or previous is None or pd.isna(change) or pd.isna(previous):
        return None
    text = ("+" if change >= 0 else "") + format_money(change)
    if previous:
        text += f" ({change / abs(previous):+.1%})"
    return text


def exact_sum(rows: list[dict], column: str) -> Decimal:
    """The exact sum of a decimal column of result rows (0 for none), before any rounding."""
    return sum((row[column] for row in rows if row[column] is not None), Decimal(0))


def with_change_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `amortized_change_ratio`: the change over last month's amortized cost."""
    previous = frame["previous_amortized_cost"]
    ratio = frame["amortized_change"] / previous.abs().where(previous != 0)
    return frame.assign(amortized_change_ratio=ratio)


def to_csv(frame: pd.DataFrame, **constants: object) -> str:
    """A frame as CSV, with constant columns (e.g. tenant, month) in front."""
    return frame.assign(**constants)[[*constants, *frame.columns]].to_csv(index=False)
