"""Small display helpers shared by the pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finops_platform.dashboard.frames import format_change, format_money

MONEY_WORDS = ("cost", "commitment", "savings", "fees", "change")


def column_config(frame: pd.DataFrame) -> dict[str, object]:
    """Dollar format for money columns, percent for shares and ratios."""
    config: dict[str, object] = {}
    for column in frame.columns:
        name = str(column)
        label = name.replace("_", " ").capitalize()
        if name.endswith(("_share", "_coverage", "_ratio", "utilization")):
            config[name] = st.column_config.NumberColumn(label, format="percent")
        elif name.endswith(MONEY_WORDS) and pd.api.types.is_float_dtype(frame[column]):
            config[name] = st.column_config.NumberColumn(label, format="dollar")
        else:
            config[name] = st.column_config.Column(label)
    return config


def table(frame: pd.DataFrame, **options: object) -> None:
    st.dataframe(frame, hide_index=True, column_config=column_config(frame), **options)


def money_metric(
    label: str,
    value: float | None,
    change: float | None = None,
    previous: float | None = None,
    help: str | None = None,
) -> None:
    """A cost figure; its change versus last month, an increase in red."""
    st.metric(
        label,
        format_money(value),
        delta=format_change(change, previous),
        delta_color="inverse",
        help=help,
        border=True,
    )


def nothing_loaded(what: str) -> None:
    st.info(f"No {what} loaded yet: run `finops run` (or materialize the partitions in Dagster).")
