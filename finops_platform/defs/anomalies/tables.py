"""The rows of `cost_anomalies` and `cost_forecast`, as Arrow tables, and what the previous
load of a month tells about them (new, continuing, withdrawn)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from finops_platform.lib.anomalies.detect import Anomaly
from finops_platform.lib.anomalies.forecast import Forecast

NEW, CONTINUING, WITHDRAWN = "new", "continuing", "withdrawn"

ANOMALY_SCHEMA = pa.schema(
    [
        ("billing_period", pa.date32()),
        ("usage_date", pa.date32()),
        ("level", pa.string()),  # total, service, account, usage_type, tag
        ("key", pa.string()),  # the product code, account id, usage type, tag key=value
        ("actual", pa.float64()),
        ("expected", pa.float64()),
        ("lower", pa.float64()),
        ("upper", pa.float64()),
        ("impact", pa.float64()),
        ("impact_pct", pa.float64()),  # null for a key that cost nothing before
        ("drivers", pa.string()),
        ("status", pa.string()),  # new, continuing, withdrawn (gone after a restatement)
        ("currency", pa.string()),
        ("first_reported", pa.timestamp("us")),
        ("judged_at", pa.timestamp("us")),
    ]
)
FORECAST_SCHEMA = pa.schema(
    [
        ("billing_period", pa.date32()),
        ("level", pa.string()),  # total, service, account, tag
        ("key", pa.string()),
        ("complete_days", pa.int64()),
        ("days_in_month", pa.int64()),
        ("actual_to_date", pa.float64()),
        ("forecast", pa.float64()),
        ("lower", pa.float64()),  # the 90 % prediction interval
        ("upper", pa.float64()),
        ("run_rate", pa.float64()),  # naive: cost of the complete days / their number x days
        ("currency", pa.string()),
        ("forecast_at", pa.timestamp("us")),
    ]
)


def anomaly_table(
    month: dt.date,
    found: list[Anomaly],
    previous: list[dict],
    currency: str,
    now: dt.datetime,
) -> pa.Table:
    """This load's anomalies, each new or continuing (the previous load had it), and the
    previous load's that this one no longer finds, withdrawn (a restatement changed the day)."""
    before = {
        (r["usage_date"].isoformat(), r["level"], r["key"]): r
        for r in previous
        if r["status"] != WITHDRAWN
    }
    withdrawn_before = {
        (r["usage_date"].isoformat(), r["level"], r["key"]): r
        for r in previous
        if r["status"] == WITHDRAWN
    }
    rows = []
    for anomaly in found:
        known = before.get(anomaly.identity)
        rows.append(
            {
                "billing_period": month,
                "usage_date": anomaly.usage_date,
                "level": anomaly.level,
                "key": anomaly.key,
                "actual": anomaly.actual,
                "expected": anomaly.expected,
                "lower": anomaly.lower,
                "upper": anomaly.upper,
                "impact": anomaly.impact,
                "impact_pct": anomaly.impact_pct,
                "drivers": anomaly.drivers,
                "status": CONTINUING if known else NEW,
                "currency": currency,
                "first_reported": known["first_reported"] if known else now,
                "judged_at": now,
            }
        )
    current = {a.identity for a in found}
    for identity, row in {**withdrawn_before, **before}.items():
        if identity not in current:
            rows.append({**row, "status": WITHDRAWN, "judged_at": now})
    rows = [{name: row[name] for name in ANOMALY_SCHEMA.names} for row in rows]
    return pa.Table.from_pylist(rows, schema=ANOMALY_SCHEMA)


def forecast_table(
    month: dt.date, forecasts: list[Forecast], currency: str, now: dt.datetime
) -> pa.Table:
    rows = [
        {
            "billing_period": month,
            "level": f.level,
            "key": f.key,
            "complete_days": f.complete_days,
            "days_in_month": f.days_in_month,
            "actual_to_date": f.actual_to_date,
            "forecast": f.forecast,
            "lower": f.lower,
            "upper": f.upper,
            "run_rate": f.run_rate,
            "currency": currency,
            "forecast_at": now,
        }
        for f in forecasts
    ]
    return pa.Table.from_pylist(rows, schema=FORECAST_SCHEMA)
