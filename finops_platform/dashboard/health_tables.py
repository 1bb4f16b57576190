"""The data-health report as tables: the tenant x month matrix, its details, and freshness."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from finops_platform.dashboard.health import BREACH, ERROR, MISSING, OK, WARN, HealthReport
from finops_platform.dashboard.periods import month_label

COLOURS = {
    ERROR: "background-color: #d32f2f; color: white; font-weight: bold",
    BREACH: "background-color: #d32f2f; color: white; font-weight: bold",
    WARN: "background-color: #ffb300; color: black",
    MISSING: "background-color: #eeeeee; color: #616161",
    OK: "background-color: #c8e6c9; color: black",
}


def _colour(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return next((style for status, style in COLOURS.items() if text.startswith(status)), "")


def matrix_frame(report: HealthReport) -> pd.DataFrame:
    """One row per tenant, one column per month: `STATUS · summary`."""
    cells = {(c.org_id, month_label(c.month)): f"{c.status} · {c.summary}" for c in report.cells}
    orgs = list(dict.fromkeys(c.org_id for c in report.cells))
    columns = [month_label(m) for m in report.months]
    rows = [[cells.get((org, column), "") for column in columns] for org in orgs]
    return pd.DataFrame(rows, index=pd.Index(orgs, name="tenant"), columns=columns)


def styled(frame: pd.DataFrame, columns: list[str] | None = None) -> Styler:
    """Status cells coloured: breaches and errors red, warnings amber; hours to one decimal."""
    hours = {c: "{:,.1f}" for c in frame.columns if str(c).endswith("hours_lag")}
    hours |= {c: "{:g}" for c in frame.columns if str(c) == "sla_hours"}
    return frame.style.map(_colour, subset=columns).format(hours, na_rep="")


def detail_frame(report: HealthReport) -> pd.DataFrame:
    """One row per tenant x month with everything behind its status."""
    rows = []
    for cell in report.cells:
        records = cell.records
        metadata = records.load_metadata
        rows.append(
            {
                "tenant": cell.org_id,
                "month": month_label(cell.month),
                "status": cell.status,
                "rows": cell.rows,
                "assembly_id": cell.assembly_id or metadata.get("assembly_id"),
                "manifest": metadata.get("manifest"),
                "delivered_at": metadata.get("manifest_last_modified"),
                "loaded_at": records.loaded_at,
                "last_usage_start": cell.last_usage_start,
                "last_run": records.run_status,
                "run_id": records.run_id,
                "checks_passed": cell.checks_passed,
                "failed_checks": ", ".join(f"{c.label} ({c.severity})" for c in cell.failed_checks),
            }
        )
    return pd.DataFrame(rows)


def freshness_frame(report: HealthReport) -> pd.DataFrame:
    """Each active tenant's freshness SLA verdict for the current month."""
    return pd.DataFrame(
        [
            {
                "tenant": f.org_id,
                "month": month_label(f.month),
                "status": BREACH if f.status != OK else OK,
                "last_usage_start": f.last_usage_start,
                "hours_lag": f.hours_lag,
                "sla_hours": f.sla_hours,
                "rows_this_month": f.row_count,
            }
            for f in report.freshness
        ]
    )
