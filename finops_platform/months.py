"""Billing-month arithmetic: a month is the date of its first day, everywhere.

One owner for month shifting and parsing, so the CLI, the config, the checks, the runner and
the dashboard count months the same way.
"""

from __future__ import annotations

import datetime as dt
import re

MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def shift_month(month: dt.date, delta: int) -> dt.date:
    """The first day of the month `delta` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


def next_month(month: dt.date) -> dt.date:
    """First day of the month after `month`."""
    return shift_month(month, 1)


def last_day(month: dt.date) -> dt.date:
    """The last day of `month`."""
    return next_month(month) - dt.timedelta(days=1)


def parse_month(text: str) -> dt.date:
    """`YYYY-MM` -> the first day of that month; ValueError naming the text otherwise."""
    if not MONTH_PATTERN.fullmatch(text):
        raise ValueError(f"expected a month as YYYY-MM (e.g. 2026-11), got {text!r}")
    return dt.date(int(text[:4]), int(text[5:]), 1)


def current_month(now: dt.datetime | None = None) -> dt.date:
    """The billing month of `now` (default: the current UTC time)."""
    return (now or dt.datetime.now(dt.UTC)).date().replace(day=1)
