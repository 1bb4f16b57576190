"""Month-end forecast per level and key: the cost of the month's complete days, plus each
remaining day's expected cost from the baseline of the days before (baseline.py), with a 90 %
prediction interval. A day still being delivered counts as to come.

The interval is the wider, on each side, of the baseline's own (the remaining days' spread and
the level's and trend's errors) and of the errors the same forecaster made on the history:
each of the last BACKTEST_MONTHS months forecast from the same day of the month (and the three
days either side, a week of cut-offs) and compared with how that month really ended. The
baseline's spread knows the day-to-day noise only; the backtest also sees what it cannot model
(steps, new keys, month-end charges, a trend that bends), and is asymmetric when they are.
Errors are taken relative to the projected cost of the days to come, so a month of history at
another level of cost still tells the current one's share of surprise.

The baseline's medians pass over the first day's monthly fees, so what is projected is the
daily run of the month; a charge the CUR books once at month end (some taxes and support fees)
is not foreseen by the point forecast, only by the interval's backtest. A closed month's
forecast is its actual cost, with no interval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from finops_platform.lib.anomalies.baseline import fit, weekdays_of
from finops_platform.lib.anomalies.series import Rows, matrix
from finops_platform.months import last_day, shift_month

# Levels forecast (what budgets can cover) and the z of the two-sided 90 % interval.
FORECAST_LEVELS = ("total", "service", "account", "tag")
Z90 = 1.645
# How many months before the forecast one is backtested on, and the cut-offs either side of
# the same day of the month in each (three: a week of cut-offs, every weekday once).
BACKTEST_MONTHS = 3
BACKTEST_SPREAD_DAYS = 3
# The days a backtest's fit needs before its cut-off: three of each weekday, so the weekly
# medians pass over the first day's fees as the forecast's own (weeks of history) do; with
# fewer, one fee day makes its weekday's factor several times the others and the backtest
# judges a forecaster the current month does not use.
BACKTEST_MIN_DAYS = 21


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
    cutoffs = _backtest_cutoffs(start, month, complete - month_begin)
    results = []
    for level in FORECAST_LEVELS:
        level_matrix = matrix(rows, level, start, days)
        for key, cost in zip(level_matrix.keys, level_matrix.cost, strict=True):
            in_month = complete - month_begin
            completed = float(cost[month_begin:complete].sum())
            projected, below, above = 0.0, 0.0, 0.0
            projection = _project(cost, weekdays, complete, days)
            if projection is not None:
                projected, sigma = projection
                low, high = _backtest(cost, weekdays, cutoffs)
                below = max(Z90 * sigma, -low * projected)
                above = max(Z90 * sigma, high * projected)
            elif complete < days and in_month > 0:  # too few days: the run rate of those
                projected = completed / in_month * (days - complete)
            total = completed + projected
            so_far = float(cost[month_begin:].sum())
            results.append(
                Forecast(
                    level=level,
                    key=str(key),
                    complete_days=int(max(in_month, 0)),
                    days_in_month=end.day,
                    actual_to_date=round(so_far, 4),
                    forecast=round(total, 4),
                    lower=round(max(total - below, so_far), 4),
                    upper=round(max(total + above, so_far), 4),
                    run_rate=round(completed / in_month * end.day if in_month > 0 else so_far, 4),
                )
            )
    return results


def _project(
    cost: np.ndarray, weekdays: np.ndarray, complete: int, days: int
) -> tuple[float, float] | None:
    """The expected cost of days `complete`..`days` - 1 from the days before them, and the
    baseline's spread of that sum; None when they are no days or too few precede them."""
    if complete >= days:
        return None
    baseline = fit(cost[:complete], weekdays[:complete])
    if baseline is None:
        return None
    ahead = np.arange(complete, days) - (complete - 1)
    expected = baseline.expected(ahead, weekdays[complete:days])
    return float(expected.sum()), baseline.sum_sigma(ahead, weekdays[complete:days])


def _backtest_cutoffs(start: np.datetime64, month: dt.date, day: int) -> list[tuple[int, int]]:
    """(complete, end) day indexes of the backtests: in each history month inside the series,
    cut-offs from `day` - BACKTEST_SPREAD_DAYS to `day` + BACKTEST_SPREAD_DAYS of that month
    (at least its first, before its last), its last day's index + 1 as end. Where that is
    fewer than BACKTEST_MIN_DAYS into the series (the first month of history), they start there
    instead: a later day of the month, fewer days to come, still the month's surprises."""
    cutoffs = []
    for back in range(1, BACKTEST_MONTHS + 1):
        earlier = shift_month(month, -back)
        begin = int((np.datetime64(earlier) - start).astype(int))
        if begin < 0:
            break
        end = begin + last_day(earlier).day
        low = max(day - BACKTEST_SPREAD_DAYS, 1, BACKTEST_MIN_DAYS - begin)
        high = min(max(day, low) + BACKTEST_SPREAD_DAYS, last_day(earlier).day - 1)
        cutoffs += [(begin + cut, end) for cut in range(low, high + 1)]
    return cutoffs


def _backtest(
    cost: np.ndarray, weekdays: np.ndarray, cutoffs: list[tuple[int, int]]
) -> tuple[float, float]:
    """The lower and upper bounds of the relative error (actual / projected - 1) of the days
    to come, as the forecasts at `cutoffs` made it; (0, 0) without any. Each bound is the
    wider of the outermost 5 % observed error (the next one outward: a handful of backtests
    widens rather than guesses) and the mean +/- a t-based 90 % prediction half-width. The
    t's degrees of freedom count months, not cut-offs: a month's cut-offs share its surprises,
    so they are not independent draws.
    """
    errors, months = [], set()
    for complete, end in cutoffs:
        projection = _project(cost, weekdays, complete, end)
        if projection is not None and projection[0] > 0:
            errors.append(float(cost[complete:end].sum()) / projection[0] - 1)
            months.add(end)
    if not errors:
        return 0.0, 0.0
    n = len(errors)
    spread = float(np.std(errors, ddof=1)) if n > 1 else abs(errors[0])
    mean = float(np.mean(errors))
    half = _t90(len(months) - 1) * spread * np.sqrt(1 + 1 / len(months))
    low = min(float(np.quantile(errors, 0.05, method="lower")), mean - half)
    high = max(float(np.quantile(errors, 0.95, method="higher")), mean + half)
    return min(low, 0.0), max(high, 0.0)


def _t90(freedom: int) -> float:
    """Student's t quantile of the two-sided 90 % interval (a Cornish-Fisher expansion: within
    2 % from three degrees of freedom, up to 27 % short at one), since a spread estimated from
    a few months is itself uncertain; numpy has no t distribution."""
    z, v = Z90, max(freedom, 1)
    return z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
