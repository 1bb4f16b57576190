"""Alert texts for Slack: what failed, for which tenant and month, the key figures, a link."""

from __future__ import annotations

import dagster as dg
from dagster import AssetCheckEvaluation

from finops_platform.defs.alerts.owners import OwnersOf, owners_note
from finops_platform.defs.common.partitions import tenant_and_month

# Figures worth a glance in the message, when the check reports them.
KEY_FIGURES = (
    "hours_lag",
    "sla_hours",
    "last_usage_start",
    "row_count",
    "previous_row_count",
    "duplicated_keys",
    "rows_outside_period",
    "largest_difference",
    "mismatched_line_item_types",
    "new_anomalies",
    "largest_impact",
    "budgets_breached",
    "budget_pct",
)


def _where(evaluation: AssetCheckEvaluation, partition: str | None) -> tuple[str, str]:
    """(tenant, month) of a check evaluation, from its partition or its metadata."""
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    if partition and "|" in partition:
        org_id, month = tenant_and_month(partition)
        return org_id, f"{month:%Y-%m}"
    return str(metadata.get("tenant", "all tenants")), str(
        metadata.get("month", partition[:7] if partition else "-")
    )


def asset_link(ui_url: str, asset_path: list[str]) -> str:
    return f"{ui_url.rstrip('/')}/assets/{'/'.join(asset_path)}?view=checks"


def check_messages(
    evaluation: AssetCheckEvaluation,
    partition: str | None,
    ui_url: str,
    owners_of: OwnersOf | None = None,
) -> tuple[str, str]:
    """(breach, recovery) messages for one check of one partition; `owners_of` gives the
    tenant's owners, who are named in both."""
    tenant, month = _where(evaluation, partition)
    owners = owners_note(owners_of(tenant) if owners_of else [])
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    figures = ", ".join(f"{k}={metadata[k]}" for k in KEY_FIGURES if k in metadata)
    asset = "/".join(evaluation.asset_key.path)
    link = f"<{asset_link(ui_url, evaluation.asset_key.path)}|{asset} in Dagster>"
    severity = evaluation.severity.value
    breach = (
        f":rotating_light: [{severity}] check {evaluation.check_name} failed: tenant {tenant}, "
        f"month {month}. {evaluation.description or ''}"
        + (f" ({figures})" if figures else "")
        + f"{owners} {link}"
    )
    recovery = (
        f":white_check_mark: Recovered: check {evaluation.check_name} passes again for tenant "
        f"{tenant}, month {month}" + (f" ({figures})" if figures else "") + f"{owners} {link}"
    )
    return breach, recovery


def partition_label(partition: str | None) -> str:
    """' for tenant acme, month 2026-06' for a run's partition key, or its range 'first...last'
    (a single-run backfill); '' for an unpartitioned run."""
    if not partition:
        return ""
    first, _, last = partition.partition("...")
    if "|" not in first:
        return f" for {partition}"
    (first_org, first_month), (last_org, last_month) = map(tenant_and_month, (first, last or first))
    months = f"{first_month:%Y-%m}" + (f"..{last_month:%Y-%m}" if last_month != first_month else "")
    if first_org == last_org:
        return f" for tenant {first_org}, month{'s' if '..' in months else ''} {months}"
    return f" for tenants {first_org}..{last_org}, months {months}"


def run_link(ui_url: str, run_id: str) -> str:
    return f"<{ui_url.rstrip('/')}/runs/{run_id}|run {run_id[:8]} in Dagster>"


def run_failure_message(
    job: str, run_id: str, partition: str | None, error: str, ui_url: str
) -> str:
    return (
        f":x: Run of {job}{partition_label(partition)} failed: {error[:500]} "
        f"{run_link(ui_url, run_id)}"
    )


def run_recovery_message(job: str, run_id: str, partition: str | None, ui_url: str) -> str:
    return (
        f":white_check_mark: Recovered: run of {job}{partition_label(partition)} succeeded "
        f"{run_link(ui_url, run_id)}"
    )


def failure_message(event: dg.DagsterEvent) -> str:
    """What went wrong in a step: a Failure's description, else the innermost error."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return f"{event.step_key}: {error.message.strip()}" if error else f"{event.step_key} failed"
