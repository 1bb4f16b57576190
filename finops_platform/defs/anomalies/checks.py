"""The checks of the anomalies and the forecast: they fail to be seen, in the UI and in Slack
(defs/alerts posts every failed check with the tenant's owners and a link), never to stop a
run: an anomaly or a budget overrun is news about the cost, not a fault in the data."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa

from finops_platform.defs.anomalies.tables import NEW, WITHDRAWN
from finops_platform.defs.common import keys
from finops_platform.lib.anomalies.budgets import BudgetState

LISTED = 10  # anomalies or budgets named in a check's description (and so in Slack)

DESCRIPTIONS = {
    keys.NEW_COST_ANOMALIES: (
        "No new cost anomaly: no day whose cost rose above its expected band by the tenant's "
        "minimum impact (config `anomaly`). Warns with the new ones, their impact and drivers."
    ),
    keys.BUDGET_ACTUAL: (
        "The month's cost so far is below the first threshold of every budget of the tenant "
        "(config `budgets`); warns past it, an error past 100 %."
    ),
    keys.BUDGET_FORECAST: (
        "The month-end forecast is below the first forecast threshold of every budget; warns "
        "past it, an error past 100 %."
    ),
}


def check_specs(
    asset: dg.AssetKey, names: tuple[str, ...], partitions_def: dg.PartitionsDefinition
) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            name, asset=asset, description=DESCRIPTIONS[name], partitions_def=partitions_def
        )
        for name in names
    ]


def new_anomalies_result(table: pa.Table) -> dg.AssetCheckResult:
    """WARN when this load found anomalies the previous one had not: each with its day,
    level, key, impact and drivers, largest impact first."""
    rows = table.to_pylist()
    new = sorted((r for r in rows if r["status"] == NEW), key=lambda r: -r["impact"])
    withdrawn = [r for r in rows if r["status"] == WITHDRAWN]
    listed = "; ".join(_anomaly_line(r) for r in new[:LISTED])
    more = f"; and {len(new) - LISTED} more" if len(new) > LISTED else ""
    return dg.AssetCheckResult(
        check_name=keys.NEW_COST_ANOMALIES,
        passed=not new,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(new)} new cost anomal{'y' if len(new) == 1 else 'ies'}: {listed}{more}"
            if new
            else DESCRIPTIONS[keys.NEW_COST_ANOMALIES]
        ),
        metadata={
            "new_anomalies": len(new),
            "anomalies": sum(r["status"] != WITHDRAWN for r in rows),
            "withdrawn_anomalies": len(withdrawn),
            "largest_impact": round(new[0]["impact"], 2) if new else 0.0,
        },
    )


def _anomaly_line(row: dict) -> str:
    where = "total" if row["level"] == "total" else f"{row['level']} {row['key']}"
    pct = f" (+{row['impact_pct']:.0f} %)" if row["impact_pct"] is not None else " (new)"
    drivers = f", drivers: {row['drivers']}" if row["drivers"] else ""
    return (
        f"{row['usage_date']} {where}: {row['actual']:,.2f} vs expected {row['expected']:,.2f}, "
        f"+{row['impact']:,.2f} {row['currency']}{pct}{drivers}"
    )


def budget_result(name: str, states: list[BudgetState], what: str) -> dg.AssetCheckResult:
    """WARN when a budget reached its first threshold, ERROR when one is past 100 %."""
    breached = [s for s in states if s.verdict != "ok"]
    error = any(s.verdict == "error" for s in breached)
    listed = "; ".join(s.describe(what) for s in breached[:LISTED])
    return dg.AssetCheckResult(
        check_name=name,
        passed=not breached,
        severity=dg.AssetCheckSeverity.ERROR if error else dg.AssetCheckSeverity.WARN,
        description=listed if breached else f"{DESCRIPTIONS[name]} ({len(states)} budget(s))",
        metadata={
            "budgets": len(states),
            "budgets_breached": len(breached),
            "budget_pct": round(max((s.pct for s in states), default=0.0), 1),
        },
    )
