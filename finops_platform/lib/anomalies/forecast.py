"""Month-end forecast per level and key: the cost of the month's complete days, plus each
remaining day's expected cost from the baseline of the days before (baseline.py), with a 90 %
prediction interval from the baseline's spread. A day still being delivered counts as to come.

The baseline's medians pass over the first day's monthly fees, so what is projected is the
daily run of the month; a charge the CUR books once at month end (some taxes and support fees)
is not foreseen. A closed month's forecast is its actual cost, with no interval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from finops_platform.lib.anomalies.baseline import fit, weekdays_of
from finops_platform.lib.anomalies.series import Rows, matrix
from finops_platform.months import last_day

# Levels forecast (what budgets can cover) and the z of the two-sided 90 % interval.
FORECAST_LEVELS = ("total", "service", "account", "tag")
Z90 = 1.645


@dataclass(frozen=True)
class Forecast:
    level: str
    key: str
    complete_days: int
    days_in_month: int
    actual_to_date: float
    forecast: float
    lower: float
    upper: float
    run_rate: float  # the naive forecast: cost of the complete days / their number x days


def forecast(rows: Rows, first: dt.date, month: dt.date, complete_until: dt.date) -> list[Forecast]:
    """Forecasts of `month`, whose days up to `complete_until` (inclusive) are complete;
    history from `first`."""
    first = rows.first_day(first)
    start = np.datetime64(first)
    end = last_day(month)
    days = (np.datetime64(end) - start).astype(int) + 1
    month_begin = max(int((np.datetime64(month) - start).astype(int)), 0)
    complete = min((np.datetime64(complete_until) - start).astype(int) + 1, days)
    weekdays = weekdays_of(start + np.arange(days))
    ahead = np.arange(complete, days) - (complete - 1)
    results = []
    for level in FORECAST_LEVELS:
        level_matrix = matrix(rows, level, start, days)
        for key, cost in zip(level_matrix.keys, level_matrix.cost, strict=True):
            in_month = complete - month_begin
            completed = float(cost[month_begin:complete].sum())
            projected, sigma = 0.0, 0.0
            baseline = fit(cost[:complete], weekdays[:complete]) if complete < days else None
            if baseline is not None:
                expected = baseline.expected(ahead, weekdays[complete:])
                projected = float(expected.sum())
                sigma = baseline.sum_sigma(ahead, weekdays[complete:])
            elif complete < days and in_month > 0:  # too few days: the run rate of those
                projected = completed / in_month * len(ahead)
            total = completed + projected
            so_far = float(cost[month_begin:].sum())
            half = Z90 * sigma
            results.append(
                Forecast(
                    level=level,
                    key=str(key),
                    complete_days=int(max(in_month, 0)),
                    days_in_month=end.day,
                    actual_to_date=round(so_far, 4),
                    forecast=round(total, 4),
                    lower=round(max(total - half, so_far), 4),
                    upper=round(max(total + half, so_far), 4),
                    run_rate=round(completed / in_month * end.day if in_month > 0 else so_far, 4),
                )
            )
    return results
