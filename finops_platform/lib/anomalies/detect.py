"""Cost anomalies of a tenant's month: each complete day of each key of each level judged
against its baseline (baseline.py), and the drivers that explain it.

Only increases are anomalies (a drop in cost is no one's emergency, and AWS Cost Anomaly
Detection judges the same way). A day is anomalous when its cost is above the band
(`sensitivity` robust standard deviations over the expected cost) and its impact reaches both
of the tenant's minimums, in money and in percent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from finops_platform.lib.anomalies.baseline import fit, weekdays_of
from finops_platform.lib.anomalies.series import (
    DRIVER_COLUMNS,
    LEVEL_COLUMNS,
    Matrix,
    Rows,
    by_column,
    matrix,
)
from finops_platform.settings import AnomalySettings

MAX_DRIVERS = 3


@dataclass(frozen=True)
class Anomaly:
    usage_date: dt.date
    level: str
    key: str
    actual: float
    expected: float
    lower: float
    upper: float
    impact: float
    impact_pct: float | None  # None for a key that cost nothing before: it is new
    drivers: str

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.usage_date.isoformat(), self.level, self.key)


def detect(
    rows: Rows,
    first: dt.date,
    judged: tuple[dt.date, dt.date],
    settings: AnomalySettings,
) -> list[Anomaly]:
    """The anomalies of the days `judged` (first, last, inclusive), with history from `first`."""
    first = rows.first_day(first)
    start = np.datetime64(first)
    days = (np.datetime64(judged[1]) - start).astype(int) + 1
    begin = max(int((np.datetime64(judged[0]) - start).astype(int)), 0)
    weekdays = weekdays_of(start + np.arange(days))
    found = []
    for level in LEVEL_COLUMNS:
        usage = rows.usage if level != "tag" else None
        level_matrix = matrix(rows, level, start, days, usage)
        for index, key in enumerate(level_matrix.keys):
            series = level_matrix.cost[index]
            if series[begin:].max(initial=0) < settings.min_impact:
                continue  # nothing it costs on a judged day could reach the minimum
            for day in range(max(begin, 1), days):
                judged = _judge(series, weekdays, day, settings)
                if judged is not None:
                    actual, expected = float(series[day]), judged.expected
                    found.append(
                        Anomaly(
                            usage_date=level_matrix.day(day),
                            level=level,
                            key=str(key),
                            actual=round(actual, 4),
                            expected=round(expected, 4),
                            lower=round(judged.lower, 4),
                            upper=round(judged.upper, 4),
                            impact=round(actual - expected, 4),
                            impact_pct=(
                                round(100 * (actual - expected) / expected, 2)
                                if expected > 0
                                else None
                            ),
                            drivers=drivers(rows, level_matrix, str(key), day, actual - expected),
                        )
                    )
    return found


@dataclass(frozen=True)
class Band:
    """A day's expected cost from the days before it, and the band around it."""

    expected: float
    lower: float
    upper: float


def band(series: np.ndarray, weekdays: np.ndarray, day: int, sensitivity: float) -> Band | None:
    """The band of `day` of `series` (`sensitivity` robust standard deviations either side of
    the expected cost), from the days before it; None with too few of them."""
    baseline = fit(series[:day], weekdays[:day])
    if baseline is None:
        return None
    weekday = weekdays[day : day + 1]
    expected = float(baseline.expected(np.array([1.0]), weekday)[0])
    upper = expected + sensitivity * float(baseline.spread(np.array([expected]), weekday)[0])
    return Band(expected, max(2 * expected - upper, 0.0), upper)


def total_bands(
    rows: Rows, first: dt.date, judged: tuple[dt.date, dt.date], settings: AnomalySettings
) -> dict[dt.date, Band]:
    """The band of the tenant's total usage cost on each day of `judged` that has enough days
    before it: what `detect` judges the total by, for every day, not only the anomalous ones
    (the dashboard draws it under the daily cost)."""
    start = np.datetime64(rows.first_day(first))
    days = (np.datetime64(judged[1]) - start).astype(int) + 1
    begin = max(int((np.datetime64(judged[0]) - start).astype(int)), 1)
    total = matrix(rows, "total", start, days, rows.usage)
    if not len(total.keys):
        return {}
    weekdays = weekdays_of(start + np.arange(days))
    found = {
        total.day(d): band(total.cost[0], weekdays, d, settings.sensitivity)
        for d in range(begin, days)
    }
    return {day: b for day, b in found.items() if b is not None}


def _judge(
    series: np.ndarray, weekdays: np.ndarray, day: int, settings: AnomalySettings
) -> Band | None:
    """The band of `day` when its cost is an anomaly against it."""
    actual = float(series[day])
    if actual < settings.min_impact:
        return None
    judged = band(series, weekdays, day, settings.sensitivity)
    if judged is None:
        return None
    impact = actual - judged.expected
    pct_ok = judged.expected <= 0 or 100 * impact / judged.expected >= settings.min_impact_pct
    if actual > judged.upper and impact >= settings.min_impact and pct_ok:
        return judged
    return None


def drivers(rows: Rows, level_matrix: Matrix, key: str, day: int, impact: float) -> str:
    """What explains a key's change on `day`: per other dimension, the member whose cost rose
    most over its median of the week before, with its share of the impact."""
    level = level_matrix.level
    column = LEVEL_COLUMNS[level]
    within = rows.of_level(level) & (rows.usage if level != "tag" else True)
    if column:
        within &= rows.columns[column] == key
    before = min(day, 7)
    start = level_matrix.first + np.timedelta64(day - before, "D")
    found = []
    for driver, name in DRIVER_COLUMNS.items():
        if driver == column or not (rows.columns[driver][within] != "").any():
            continue
        members = by_column(rows, driver, within, start, before + 1)
        change = members.cost[:, -1] - np.median(members.cost[:, :-1], axis=1)
        best = int(np.argmax(change))
        if change[best] > 0:
            share = min(change[best] / impact, 1.0) if impact > 0 else 1.0
            text = f"{name}={members.keys[best]} +{change[best]:.2f} ({share:.0%})"
            found.append((float(change[best]), text))
    return "; ".join(text for _, text in sorted(found, reverse=True)[:MAX_DRIVERS])
