"""Reading what an AppTest run shows: metrics by label, tables by their columns, all text."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from finops_platform.dashboard.frames import format_money


def no_exceptions(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> tuple[str, str]:
    """(value, delta) of the metric with this label."""
    matches = [(m.value, m.delta) for m in at.metric if m.label == label]
    assert len(matches) == 1, f"{label!r} among {[m.label for m in at.metric]}"
    return matches[0]


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The one table shown whose first columns are `columns`."""
    frames = [d.value for d in at.dataframe]
    matches = [f for f in frames if list(f.columns[: len(columns)]) == list(columns)]
    assert len(matches) == 1, f"{columns} among {[list(f.columns) for f in frames]}"
    return matches[0]


def chart_frames(at: AppTest) -> list[pd.DataFrame]:
    """The data each chart shown draws, one column per series (Streamlit sends a line chart's
    data long: its x column, then each point's series and value)."""
    frames = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            long = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
            x, series, value = long.columns[:3]
            frames.append(long.pivot_table(index=x, columns=series, values=value, dropna=False))
    return frames


def cents(value: Decimal | float | int | None) -> float:
    return float(Decimal(str(value or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def money(value: Decimal | None) -> str:
    return format_money(cents(value))


def all_text(at: AppTest) -> str:
    """Every piece of text and every table cell the run shows."""
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption")
        for e in getattr(at, kind)
    ]
    parts += [
        e.value for kind in ("info", "warning", "error", "success") for e in getattr(at, kind)
    ]
    parts += [f"{m.label} {m.value} {m.delta}" for m in at.metric]
    parts += [w.label for w in at.selectbox] + [str(o) for w in at.selectbox for o in w.options]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def month_of(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
