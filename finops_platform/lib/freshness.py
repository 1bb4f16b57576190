"""Freshness SLA of a tenant: hours since its last usage hour.

The verdict comes from the original validation query (`sql/validation/freshness_sla.sql`) on the
current billing month. While that month has no data yet, the lag counts from the last usage hour
of the latest earlier month loaded (`sql/validation/freshness_earlier_month.sql`), so a tenant
whose deliveries stopped stays in breach across a month start instead of "recovering" at
00:00 of the 1st. Only a tenant with no data at all counts from the current month's first hour,
so it too breaches after `sla_hours` whatever the calendar says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from finops_platform.lake import RAW_TABLE
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import EngineSession, QueryEngine
from finops_platform.lib.sql import Identifier, SqlValue
from finops_platform.settings import TenantConfig

OK = "OK"
SLA_BREACH = "SLA_BREACH"


@dataclass(frozen=True)
class Freshness:
    org_id: str
    month: dt.date  # the billing month judged: `now`'s
    last_usage_start: dt.datetime | None  # an earlier month's while this one has no rows
    hours_lag: float
    sla_hours: float
    row_count: int

    @property
    def status(self) -> str:
        return SLA_BREACH if self.hours_lag > self.sla_hours else OK

    def describe(self) -> str:
        last = self.last_usage_start.isoformat(" ") if self.last_usage_start else "no data"
        if self.row_count or self.last_usage_start is None:
            since = f"the last usage hour of {self.month:%Y-%m} ({last})"
        else:  # the month has no rows yet: the last usage hour is an earlier month's
            since = f"the last usage hour ({last}), none yet in {self.month:%Y-%m}"
        return (
            f"{self.org_id}: {self.status}, {self.hours_lag:.1f} h since {since}, "
            f"SLA {self.sla_hours:g} h"
        )


def tenant_freshness(
    engine: QueryEngine, catalog: Catalog, tenant: TenantConfig, now: dt.datetime
) -> Freshness:
    """The tenant's freshness at `now` (naive UTC); a tenant never loaded has no data."""
    if catalog.get_table(tenant.database, RAW_TABLE) is None:
        return _freshness(
            tenant, now, {"last_usage_start": None, "hours_lag": None, "row_count": 0}
        )
    params: dict[str, SqlValue] = {
        "database": Identifier(tenant.database),
        "org": tenant.org_id,
        "now": now,
    }
    with engine.session(tenant.database) as session:
        (row,) = session.query_file("validation/freshness_sla.sql", params).to_pylist()
        if row["hours_lag"] is None:
            row |= _earlier_usage(session, catalog, tenant, now, params)
    return _freshness(tenant, now, row)


def _earlier_usage(
    session: EngineSession,
    catalog: Catalog,
    tenant: TenantConfig,
    now: dt.datetime,
    params: dict[str, SqlValue],
) -> dict:
    """The last usage hour before `now`'s month, and the hours since it (None if there is none).

    The loaded months are read newest first, one partition each, until one has rows (a month can
    be loaded empty): a month's rows lie in that month (raw_partition_validity checks it), so
    that month holds the last usage hour, and the older history is never scanned (Athena bills
    by bytes scanned).
    """
    loaded = {
        (int(partition.values["year"]), int(partition.values["month"]))
        for partition in catalog.list_partitions(tenant.database, RAW_TABLE)
    }
    current = (now.year, now.month)
    for year, month in sorted((m for m in loaded if m < current), reverse=True):
        (row,) = session.query_file(
            "validation/freshness_earlier_month.sql", {**params, "year": year, "month": month}
        ).to_pylist()
        if row["last_usage_start"] is not None:
            return row
    return {"last_usage_start": None, "hours_lag": None}


def _freshness(tenant: TenantConfig, now: dt.datetime, row: dict) -> Freshness:
    month = now.date().replace(day=1)
    if row["hours_lag"] is None:
        month_start = dt.datetime.combine(month, dt.time())
        hours_lag = (now - month_start).total_seconds() / 3600
    else:
        hours_lag = float(row["hours_lag"])
    return Freshness(
        org_id=tenant.org_id,
        month=month,
        last_usage_start=row["last_usage_start"],
        hours_lag=round(hours_lag, 2),
        sla_hours=tenant.sla_hours,
        row_count=row["row_count"],
    )
