"""D-1 freshness: every day, reload the current and previous month of every active tenant
(those from its first billing month on).

AWS restates the current month several times a day and can still refresh the previous one early
in the next month, so both are reloaded; the cross-org totals follow two hours later.
"""

import datetime as dt

import dagster as dg

from finops_platform.defs.common.keys import CROSS_ORG_JOB, TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import partition_key
from finops_platform.months import shift_month
from finops_platform.settings import Settings

TENANT_CRON = "0 6 * * *"
CROSS_ORG_CRON = "0 8 * * *"


def refreshed_months(day: dt.date, first: dt.date) -> list[dt.date]:
    """The current and the previous billing month of `day`, not before the first partition."""
    current = day.replace(day=1)
    previous = shift_month(current, -1)
    return [month for month in (previous, current) if month >= first]


def build_daily_refresh(settings: Settings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_tenant_refresh",
        job_name=TENANT_MONTH_JOB,
        cron_schedule=TENANT_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="D-1: reload the current and previous month of every active tenant.",
    )
    def daily_tenant_refresh(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        day = context.scheduled_execution_time.date()
        return [
            dg.RunRequest(
                partition_key=partition_key(tenant.org_id, month),
                run_key=f"{day}:{tenant.org_id}:{month:%Y-%m}",
            )
            for tenant in settings.tenants.active()
            # A tenant's months before its first_billing_month have no delivery to load.
            for month in refreshed_months(day, settings.tenant_first_month(tenant))
        ]

    return daily_tenant_refresh


def build_daily_cross_org(settings: Settings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_cross_org_refresh",
        job_name=CROSS_ORG_JOB,
        cron_schedule=CROSS_ORG_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Cross-org totals of the current and previous month, after the tenants.",
    )
    def daily_cross_org_refresh(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        day = context.scheduled_execution_time.date()
        return [
            dg.RunRequest(partition_key=month.isoformat(), run_key=f"{day}:{month:%Y-%m}")
            for month in refreshed_months(day, settings.first_month)
        ]

    return daily_cross_org_refresh
