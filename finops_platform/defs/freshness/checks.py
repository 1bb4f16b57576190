"""Per-tenant freshness SLA checks, generated from config.

One unpartitioned, non-blocking check per active tenant on tb_cur_raw (docs/ARCHITECTURE.md:
Dagster's built-in freshness checks do not fit a per-tenant SLA on a tenant x month asset, and a
blocking one would fail an old month's run on today's freshness). A schedule runs them every few
minutes, so a tenant whose data stops arriving breaches even though nothing is materialized.
"""

import dagster as dg

from finops_platform.defs.common.keys import TB_CUR_RAW, freshness_check_name
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.freshness import OK, tenant_freshness
from finops_platform.resources import Clock, FinOpsSettings
from finops_platform.settings import Settings, TenantConfig


def build_freshness_check(tenant: TenantConfig) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=TB_CUR_RAW,
        name=freshness_check_name(tenant.org_id),
        blocking=False,
        # Checks take no `owners` in Dagster 1.13.27 (assets, jobs, sensors and schedules do):
        # the tenant's owners are the check's metadata, shown with the check in the UI.
        metadata={"owners": ", ".join(tenant.owners)} if tenant.owners else None,
        description=(
            f"{tenant.org_id}: the last usage hour (the current month's, or before its first "
            f"delivery the latest earlier month's) is at most {tenant.sla_hours:g} h old "
            "(sla_hours)."
        ),
    )
    def freshness_sla(
        finops: FinOpsSettings, engine: QueryEngine, catalog: Catalog, clock: Clock
    ) -> dg.AssetCheckResult:
        current = finops.tenant(tenant.org_id)
        freshness = tenant_freshness(engine, catalog, current, clock.now())
        return dg.AssetCheckResult(
            passed=freshness.status == OK,
            severity=dg.AssetCheckSeverity.ERROR,
            description=freshness.describe(),
            metadata={
                "tenant": tenant.org_id,
                "status": freshness.status,
                "hours_lag": freshness.hours_lag,
                "sla_hours": freshness.sla_hours,
                "last_usage_start": str(freshness.last_usage_start or "none"),
                "month": f"{freshness.month:%Y-%m}",
            },
        )

    return freshness_sla


def build_freshness_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    return [build_freshness_check(tenant) for tenant in settings.tenants.active()]
