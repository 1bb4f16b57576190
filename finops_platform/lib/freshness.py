"""Freshness SLA of a tenant: hours since the last usage hour of the current billing month.

The verdict comes from the original validation query (`sql/validation/freshness_sla.sql`). A
month with no data at all yet counts its lag from the month's first hour, so a tenant whose
deliveries stop breaches after `sla_hours` whatever the calendar says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.sql import Identifier
from finops_platform.settings import TenantConfig

OK = "OK"
SLA_BREACH = "SLA_BREACH"


@dataclass(frozen=True)
class Freshness:
    org_id: str
    month: dt.date
    last_usage_start: dt.datetime | None
    hours_lag: float
    sla_hours: float
    row_count: int

    @property
    def status(self) -> str:
        return SLA_BREACH if self.hours_lag > self.sla_hours else OK

    def describe(self) -> str:
        last = self.last_usage_start.isoformat(" ") if self.last_usage_start else "no data"
        return (
            f"{self.org_id}: {self.status}, {self.hours_lag:.1f} h since the last usage hour of "
            f"{self.month:%Y-%m} ({last}), SLA {self.sla_hours:g} h"
        )


def tenant_freshness(
    engine: QueryEngine, catalog: Catalog, tenant: TenantConfig, now: dt.datetime
) -> Freshness:
    """The tenant's freshness at `now` (naive UTC); a tenant never loaded has no data."""
    if catalog.get_table(tenant.database, "tb_cur_raw") is None:
        return _freshness(
            tenant, now, {"last_usage_start": None, "hours_lag": None, "row_count": 0}
        )
    with engine.session(tenant.database) as session:
        (row,) = session.query_file(
            "validation/freshness_sla.sql",
            {"database": Identifier(tenant.database), "org": tenant.org_id, "now": now},
        ).to_pylist()
    return _freshness(tenant, now, row)


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
