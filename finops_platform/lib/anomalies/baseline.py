"""The expected cost of a day, from the days before it: robust statistics, numpy only.

Cost is deseasonalized by weekday factors (each weekday's median over the overall median),
a trend is the median of week-over-week changes, the level the median of what remains, and
the spread 1.4826 x the median absolute deviation around that line (a robust standard
deviation). Medians, not means, so a spike in the window does not move the baseline it is
judged by. (Measured against statsforecast in BENCHMARKS.md: README says why this won.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WINDOW_DAYS = 56  # eight weeks: two of each weekday at the least
MIN_DAYS = 7  # fewer days before it, and a day is not judged
MAD_TO_SIGMA = 1.4826
# A floor under the spread, as a share of the expected cost: a perfectly flat series would
# otherwise call a cent's change an anomaly (the minimum impact guards too).
MIN_SPREAD_SHARE = 0.02


@dataclass(frozen=True)
class Baseline:
    """The line a series follows: cost(t) = (level + slope x t) x weekly[weekday(t)], t in
    days after the last day it was fitted on, with `sigma` the robust daily spread (as cost at
    a weekday factor of 1)."""

    level: float
    slope: float
    weekly: np.ndarray  # 7 factors, Monday first
    sigma: float
    level_sigma: float  # how far off the level and slope may be (their robust errors)
    slope_sigma: float

    def expected(self, ahead: np.ndarray, weekday: np.ndarray) -> np.ndarray:
        return np.maximum(self.level + self.slope * ahead, 0.0) * self.weekly[weekday]

    def spread(self, expected: np.ndarray, weekday: np.ndarray) -> np.ndarray:
        return np.maximum(self.sigma * self.weekly[weekday], MIN_SPREAD_SHARE * expected)

    def sum_sigma(self, ahead: np.ndarray, weekday: np.ndarray) -> float:
        """The spread of the sum of these days: each day's own, and the level's and slope's
        errors, which every day shares."""
        weekly = self.weekly[weekday]
        days = float((self.spread(self.expected(ahead, weekday), weekday) ** 2).sum())
        level = (self.level_sigma * weekly.sum()) ** 2
        slope = (self.slope_sigma * (ahead * weekly).sum()) ** 2
        return float(np.sqrt(days + level + slope))


def fit(values: np.ndarray, weekdays: np.ndarray) -> Baseline | None:
    """The baseline of the days `values` (oldest first), or None with too few of them."""
    values, weekdays = values[-WINDOW_DAYS:], weekdays[-WINDOW_DAYS:]
    if len(values) < MIN_DAYS:
        return None
    weekly = _weekly_factors(values, weekdays)
    flat = values / weekly[weekdays]
    t = np.arange(len(flat)) - (len(flat) - 1)  # 0 on the last day
    weekly_changes = flat[7:] - flat[:-7]
    slope = float(np.median(weekly_changes) / 7) if len(flat) >= 14 else 0.0
    slope_sigma = (
        MAD_TO_SIGMA * _mad(weekly_changes) / 7 / np.sqrt(len(weekly_changes))
        if len(flat) >= 14
        else 0.0
    )
    # The level of the last week: a step change is the new normal after four days, a new
    # key is judged by what it costs now, and one spike in the week does not move a median.
    level = float(np.median(flat[-7:] - slope * t[-7:]))
    started = flat[-7:][flat[-7:] > 0]
    if level <= 0 < len(started):  # a key that began costing this week: judged by those days
        level, slope = float(np.median(started)), 0.0
    # The day-to-day spread from week-over-week changes of the last four weeks, not from
    # distances to today's level: a step inside the window would count as spread on every
    # day before it. (A change is the difference of two days: sqrt(2) times one's spread.)
    if len(flat) >= 14:
        sigma = MAD_TO_SIGMA * _mad(weekly_changes[-21:]) / np.sqrt(2)
    else:
        sigma = MAD_TO_SIGMA * _mad(flat[-7:])
    # A median of seven days errs by about 1.25 sigma / sqrt(7).
    return Baseline(level, slope, weekly, sigma, 1.25 * sigma / np.sqrt(7), float(slope_sigma))


def _mad(values: np.ndarray) -> float:
    return float(np.median(np.abs(values - np.median(values))))


def _weekly_factors(values: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Each weekday's median over the overall median; 1 where there are fewer than two.

    The days are consecutive, so the whole weeks at the end, as a weeks x 7 array, hold one
    weekday per column: seven medians in one call.
    """
    overall = float(np.median(values))
    factors = np.ones(7)
    weeks = len(values) // 7
    if overall <= 0 or weeks < 2:
        return factors
    columns = np.median(values[-weeks * 7 :].reshape(weeks, 7), axis=0)
    factors[weekdays[-7:]] = np.maximum(columns / overall, 0.05)
    return factors


def weekdays_of(dates: np.ndarray) -> np.ndarray:
    """Monday = 0, for numpy days."""
    return (dates.astype("datetime64[D]").astype(np.int64) + 3) % 7
