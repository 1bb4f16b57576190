"""The jobs sensors and schedules launch: a tenant x month refresh, and the cross-org totals.

Sensors and schedules name their job (`job_name=`); `definitions.py` defines each job from the
name and selection here (the object `define_asset_job` returns has no public type to pass on).
"""

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.settings import Settings

TENANT_MONTH_DESCRIPTION = "Load and check one tenant x month, from raw CUR to curated tables."
CROSS_ORG_DESCRIPTION = "Month totals across tenants, from their curated tables."
CROSS_ORG_SELECTION = dg.AssetSelection.groups(keys.CROSS_ORG_GROUP)


def tenant_month_selection(settings: Settings) -> dg.AssetSelection:
    """Every raw, catalog and curated asset of one tenant x month, with their checks.

    The per-tenant freshness checks stay out: they judge today's data on their own schedule.
    """
    return dg.AssetSelection.groups(*keys.TENANT_MONTH_GROUPS) - dg.AssetSelection.checks(
        *keys.freshness_check_keys(settings)
    )
