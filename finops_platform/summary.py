"""`finops run`: run the planned partitions and print what happened, and where to look next."""

import datetime as dt
from pathlib import Path

import click
import dagster as dg
from tabulate import tabulate

from finops_platform.definitions import build_definitions
from finops_platform.lib.locks import file_lock
from finops_platform.runner import (
    PartitionReport,
    consecutive_runs,
    run_cross_org,
    run_tenant_months,
)
from finops_platform.settings import Settings

DAGSTER_YAML = """\
# Written by `finops run` for the embedded default: local SQLite storage, no telemetry.
telemetry:
  enabled: false
"""


def ensure_dagster_home(path: Path) -> None:
    """Create DAGSTER_HOME with a dagster.yaml, unless one is already there."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")


def run_all(settings: Settings, plan: list[tuple[str, dt.date]]) -> list[PartitionReport]:
    """A Dagster run per tenant and range of consecutive months (then one per cross-org
    month), recorded in the instance at DAGSTER_HOME."""
    ensure_dagster_home(settings.dagster_home)
    defs = build_definitions(settings)
    reports = []
    # Opening the instance creates its SQLite storage the first time; two `finops run`s
    # starting together on a new DAGSTER_HOME would both try to, so one waits for the other.
    with file_lock(settings.dagster_home / ".finops-init.lock"):
        instance = dg.DagsterInstance.get()
    with instance:
        months_by_tenant: dict[str, list[dt.date]] = {}
        for org_id, month in plan:
            months_by_tenant.setdefault(org_id, []).append(month)
        for org_id, months in months_by_tenant.items():
            for run in consecutive_runs(months):
                span = f"{run[0]:%Y-%m}" + (f"..{run[-1]:%Y-%m}" if len(run) > 1 else "")
                click.echo(f"running {org_id} {span} ...", err=True)
                reports += run_tenant_months(defs, instance, org_id, run)
        # Cross-org totals for the months where at least one tenant partition loaded.
        for month in sorted({r.month for r in reports if r.success}):
            click.echo(f"running cross-org {month:%Y-%m} ...", err=True)
            reports.append(run_cross_org(defs, instance, month))
    return reports


def _checks_cell(report: PartitionReport) -> str:
    if not report.checks:
        return "not run"
    failed = [f"{c.name} {c.severity}" for c in report.checks if not c.passed]
    passed = sum(c.passed for c in report.checks)
    summary = f"{passed}/{len(report.checks)} passed"
    return summary + (f"; failed: {', '.join(failed)}" if failed else "")


def print_summary(settings: Settings, reports: list[PartitionReport]) -> None:
    rows = [
        [
            r.org_id,
            f"{r.month:%Y-%m}",
            "ok" if r.ok else "FAILED",
            "" if r.rows is None else f"{r.rows:,}",
            "" if r.unblended_cost is None else f"{r.unblended_cost:,.2f}",
            _checks_cell(r),
        ]
        for r in reports
    ]
    headers = ["tenant", "month", "status", "rows", "unblended cost", "checks"]
    click.echo("\n" + tabulate(rows, headers=headers, disable_numparse=True))
    for report in reports:
        if report.error:
            click.echo(f"\n{report.org_id} {report.month:%Y-%m} (run {report.run_id}):")
            click.echo(f"  {report.error}")
    if reports:
        click.echo(_next_steps(settings, reports[0]))


def _next_steps(settings: Settings, last: PartitionReport) -> str:
    example = (
        "SELECT line_item_product_code, sum(line_item_unblended_cost) AS cost FROM tb_cur_raw "
        f"WHERE year = {last.month.year} AND month = {last.month.month} "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
    )
    return (
        "\nWhere to look next:\n"
        f'  finops query --tenant {last.org_id} "{example}"\n'
        f"  DAGSTER_HOME={settings.dagster_home} dagster dev -w workspace.yaml"
        "   (the UI: runs, assets by tenant x month, check results)\n"
        f"  local lake and buckets: {settings.finops_home / 'buckets'}\n"
        f"  local catalog: {settings.finops_home / 'catalog'}"
    )
