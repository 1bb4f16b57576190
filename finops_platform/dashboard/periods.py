"""Billing months as the dashboard's queries take them."""

from __future__ import annotations

import datetime as dt

from finops_platform.lib.sql import SqlValue
from finops_platform.months import shift_month

TREND_MONTHS = 12


def month_params(month: dt.date) -> dict[str, SqlValue]:
    """One billing month and the one before it."""
    previous = shift_month(month, -1)
    return {
        "year": month.year,
        "month": month.month,
        "previous_year": previous.year,
        "previous_month": previous.month,
    }


def trend_params(last: dt.date, months: int = TREND_MONTHS) -> dict[str, SqlValue]:
    """The `months` billing months ending with `last`, as partition filters."""
    first = shift_month(last, -(months - 1))
    return {
        "first_year": first.year,
        "last_year": last.year,
        "first_period": first.year * 100 + first.month,
        "last_period": last.year * 100 + last.month,
    }


def month_label(month: dt.date) -> str:
    return f"{month:%Y-%m}"
