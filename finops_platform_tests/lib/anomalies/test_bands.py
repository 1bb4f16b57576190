"""The band of the total usage cost, every day: the same model and numbers `detect` judges the
total's anomaly days by, and fees left out as they are there."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from finops_platform.lib.anomalies.detect import detect, total_bands
from finops_platform.lib.anomalies.series import Rows, history_start
from finops_platform.months import last_day
from finops_platform.settings import AnomalySettings

MONTH = dt.date(2026, 9, 1)
SPIKE = dt.date(2026, 9, 16)


def daily_rows() -> Rows:
    """EC2 usage of 100 a weekday and 60 a weekend day for three months and September, 400 more
    on SPIKE; a 2,000 fee on the first of each month (not usage: not judged)."""
    rows = []
    day = history_start(MONTH)
    while day <= last_day(MONTH):
        cost = (100.0 if day.weekday() < 5 else 60.0) + (400.0 if day == SPIKE else 0.0)
        rows.append((day, "AmazonEC2", "111122223333", "BoxUsage", "USD", True, cost))
        if day.day == 1:
            rows.append((day, "AmazonEC2", "111122223333", "HeavyUsage", "USD", False, 2000.0))
        day += dt.timedelta(days=1)
    names = ["usage_date", "product_code", "account_id", "usage_type", "currency", "is_usage"]
    return Rows.from_tables(
        pa.Table.from_pylist([dict(zip([*names, "cost"], r, strict=True)) for r in rows])
    )


def test_every_day_has_the_band_the_anomaly_days_are_judged_by() -> None:
    rows, settings = daily_rows(), AnomalySettings()
    judged = (MONTH, last_day(MONTH))
    bands = total_bands(rows, history_start(MONTH), judged, settings)
    assert sorted(bands) == [MONTH + dt.timedelta(days=i) for i in range(30)]
    (spike,) = [
        a for a in detect(rows, history_start(MONTH), judged, settings) if a.level == "total"
    ]
    assert spike.usage_date == SPIKE
    band = bands[SPIKE]
    assert (round(band.expected, 4), round(band.lower, 4), round(band.upper, 4)) == (
        spike.expected,
        spike.lower,
        spike.upper,
    )
    for day, judged_band in bands.items():
        usage = 100.0 if day.weekday() < 5 else 60.0
        assert judged_band.lower <= usage <= judged_band.upper, day  # the fee on the 1st too
        assert judged_band.lower < judged_band.expected < judged_band.upper
    assert band.upper < 500.0  # the spike is above its band


def test_no_usage_no_band() -> None:
    empty = Rows.from_tables(
        pa.table(
            {
                "usage_date": pa.array([MONTH]),
                "product_code": ["AWS"],
                "account_id": ["1"],
                "usage_type": ["Tax"],
                "currency": ["USD"],
                "is_usage": [False],
                "cost": [5.0],
            }
        )
    )
    assert (
        total_bands(empty, history_start(MONTH), (MONTH, last_day(MONTH)), AnomalySettings()) == {}
    )
