"""The schedule that evaluates every tenant's freshness SLA check every few minutes."""

import dagster as dg

from finops_platform.defs.common.keys import freshness_check_keys
from finops_platform.settings import Settings

FRESHNESS_JOB = "freshness_sla_checks"
FRESHNESS_CRON = "*/5 * * * *"


def build_freshness_schedule(settings: Settings) -> dg.ScheduleDefinition:
    job = dg.define_asset_job(
        FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(*freshness_check_keys(settings)),
        description="Every active tenant's freshness SLA check.",
    )
    # Running by default: freshness must be judged even when nobody materializes anything.
    return dg.ScheduleDefinition(
        name="freshness_sla_every_5_minutes",
        job=job,
        cron_schedule=FRESHNESS_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
