"""The data-health matrix: per tenant x month, delivery, rows ingested, checks and freshness.

Sources: the catalog (each loaded month's tb_cur_raw partition: row count, assembly id, last
usage hour), the Dagster instance (last run, last raw load and its manifest, the latest verdict
of every check) and the freshness SLA query of the current month (the verdict of the per-tenant
freshness check, computed now).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from finops_platform.dashboard.dagster_records import (
    CheckVerdict,
    PartitionRecords,
    read_partition_records,
)
from finops_platform.dashboard.scope import Scope
from finops_platform.defs.common.partitions import partition_key
from finops_platform.lake import RAW_TABLE, month_of
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.freshness import SLA_BREACH, Freshness, tenant_freshness
from finops_platform.months import shift_month

OK = "OK"
WARN = "WARN"
ERROR = "ERROR"
BREACH = "SLA BREACH"
MISSING = "NOT LOADED"
SEVERITY_ORDER = {ERROR: 0, BREACH: 1, WARN: 2, MISSING: 3, OK: 4}
HEALTH_MONTHS = 12


@dataclass(frozen=True)
class CellHealth:
    """One tenant x month."""

    org_id: str
    month: dt.date
    status: str
    summary: str
    rows: int | None
    assembly_id: str | None
    last_usage_start: str | None
    records: PartitionRecords
    freshness: Freshness | None  # the current month only

    @property
    def failed_checks(self) -> list[CheckVerdict]:
        return [c for c in self.records.checks if c.passed is False]

    @property
    def checks_passed(self) -> str:
        evaluated = [c for c in self.records.checks if c.passed is not None]
        if not evaluated:
            return ""
        return f"{sum(bool(c.passed) for c in evaluated)}/{len(evaluated)}"


@dataclass(frozen=True)
class HealthReport:
    now: dt.datetime
    months: list[dt.date]
    cells: list[CellHealth]
    freshness: list[Freshness]

    @property
    def breaches(self) -> list[Freshness]:
        return [f for f in self.freshness if f.status == SLA_BREACH]

    @property
    def problems(self) -> list[CellHealth]:
        return [c for c in self.cells if c.status in (ERROR, BREACH, WARN)]


def _loaded_partitions(catalog: Catalog, scope: Scope) -> dict[tuple[str, dt.date], dict]:
    """(org, month) -> the tb_cur_raw partition's parameters, for the tenants in scope."""
    loaded = {}
    for tenant in scope.tenants():
        for partition in catalog.list_partitions(tenant.database, RAW_TABLE):
            month = month_of(partition.values)
            loaded[(tenant.org_id, month)] = dict(partition.parameters)
    return loaded


def _status(
    records: PartitionRecords, parameters: dict | None, freshness: Freshness | None
) -> tuple[str, str]:
    failed = [c for c in records.checks if c.passed is False]
    errors = [c.name for c in failed if c.severity == ERROR]
    warnings = [c.name for c in failed if c.severity != ERROR]
    if records.run_status == "FAILURE":
        return ERROR, "last run failed" + (f": {', '.join(errors)}" if errors else "")
    if errors:
        return ERROR, ", ".join(errors)
    if freshness is not None and freshness.status == SLA_BREACH:
        return BREACH, f"{freshness.hours_lag:,.1f} h > {freshness.sla_hours:g} h"
    if warnings:
        return WARN, ", ".join(warnings)
    if parameters is None:
        return MISSING, "no data loaded"
    rows = f"{int(parameters.get('row_count') or 0):,} rows"
    if freshness is not None:
        return OK, f"{rows}, {freshness.hours_lag:,.1f} h lag"
    return OK, rows


def collect_health(
    scope: Scope,
    engine: QueryEngine,
    catalog: Catalog,
    dagster_home: Path,
    now: dt.datetime,
    months: int = HEALTH_MONTHS,
) -> HealthReport:
    """The health of every tenant in scope over the last `months` months up to now's month."""
    current = now.date().replace(day=1)
    loaded = _loaded_partitions(catalog, scope)
    freshness = [tenant_freshness(engine, catalog, t, now) for t in scope.tenants() if t.active]
    by_org = {f.org_id: f for f in freshness}
    first = shift_month(current, -(months - 1))
    shown = sorted({m for _, m in loaded if first <= m <= current} | {current})
    keys = {(t.org_id, m): str(partition_key(t.org_id, m)) for t in scope.tenants() for m in shown}
    records = read_partition_records(dagster_home, keys.values())
    cells = []
    for (org_id, month), key in keys.items():
        parameters = loaded.get((org_id, month))
        fresh = by_org.get(org_id) if month == current else None
        status, summary = _status(records[key], parameters, fresh)
        cells.append(
            CellHealth(
                org_id=org_id,
                month=month,
                status=status,
                summary=summary,
                rows=int(parameters["row_count"]) if parameters else None,
                assembly_id=(parameters or {}).get("assembly_id") or None,
                last_usage_start=(parameters or {}).get("max_usage_start") or None,
                records=records[key],
                freshness=fresh,
            )
        )
    return HealthReport(now=now, months=shown, cells=cells, freshness=freshness)
