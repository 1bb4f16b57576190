"""The cross-org table follows the tenants: a month is rebuilt when a tenant's month changes.

`cost_cross_org_monthly` (month-partitioned) reads every tenant's `cost_daily` of its month
(`MultiToSingleDimensionPartitionMapping`). Without this it would refresh only at the 08:00
schedule, up to ~22 h after a tenant's restatement. `AutomationCondition.eager()` does not fit:
it only considers the latest month and waits until every dependency is present, so a month in
which one tenant has no data (a tenant that started later) would never be rebuilt. This
condition requests a month once any tenant's cost_daily of that month was updated since the
month was last requested or built, when none of them is being written and no run of the month is
in progress. The sensor that evaluates it is declared explicitly, running by default (the one
Dagster adds by itself, `default_automation_condition_sensor`, starts stopped).
"""

import dagster as dg

from finops_platform.defs.common.keys import CROSS_ORG_GROUP

CROSS_ORG_AUTOMATION_SENSOR = "cross_org_follows_tenants"


def follow_tenant_months() -> dg.AutomationCondition:
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("a tenant's month was rebuilt")


def build_cross_org_automation_sensor(interval_seconds: int) -> dg.SensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        CROSS_ORG_AUTOMATION_SENSOR,
        target=dg.AssetSelection.groups(CROSS_ORG_GROUP),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=max(interval_seconds, 30),
        description=(
            "Rebuilds a month of cost_cross_org_monthly when a tenant's cost_daily of that "
            "month was rebuilt (a delivery, a restatement, a backfill)."
        ),
    )
