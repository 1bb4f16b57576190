"""cost_cross_org_monthly: month totals across tenants, in the central database.

It reads curated data only. The central database holds a `cost_daily` table over every tenant's
curated cost_daily partitions (as a central Glue table would over the curated prefix); the
central engine session can read those and its own tables, never a tenant's raw data.
"""

import datetime as dt

import dagster as dg

from finops_platform.defs.catalog.tables import (
    curated_location,
    partition_values,
    publish_query,
    registered_partition,
    table_metadata,
)
from finops_platform.defs.sql_checks import SqlCheck, query_metrics
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.sql import Identifier, SqlValue, load_sql, render
from finops_platform.lib.store import ObjectStore
from finops_platform.partitions import MONTH
from finops_platform.resources import FinOpsSettings

CROSS_ORG = "cost_cross_org_monthly"
SOURCE = "cost_daily"

TOTALS = SqlCheck(
    name="matches_tenant_totals",
    sql="validation/cross_org_totals.sql",
    description="Per tenant, the cross-org totals equal that tenant's curated cost_daily.",
    blocking=True,
)


def _mirror_tenant_partitions(
    finops: FinOpsSettings, catalog: Catalog, central: str, month: dt.date
) -> list[str]:
    """Register every tenant's cost_daily partition of `month` in the central cost_daily."""
    included = []
    for tenant in finops.settings.tenants.tenants:
        table = catalog.get_table(tenant.database, SOURCE)
        values = partition_values(month, tenant.org_id)
        partition = (
            registered_partition(catalog, tenant.database, SOURCE, values) if table else None
        )
        if table is None or partition is None:
            continue
        if catalog.get_table(central, SOURCE) is None:
            catalog.upsert_table(
                table.model_copy(
                    update={
                        "database": central,
                        "location": curated_location(finops.lake_root, SOURCE),
                    }
                )
            )
        catalog.upsert_partition(central, SOURCE, partition)
        included.append(tenant.org_id)
    return included


def build_cross_org_asset(
    month_partitions: dg.PartitionsDefinition, kinds: set[str]
) -> dg.AssetsDefinition:
    key = dg.AssetKey(CROSS_ORG)

    @dg.asset(
        key=key,
        deps=[
            dg.AssetDep(
                SOURCE,
                partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
                    partition_dimension_name=MONTH
                ),
            )
        ],
        group_name="cross_org",
        partitions_def=month_partitions,
        kinds=kinds,
        description=(
            "Month totals per tenant, account and service across all tenants, in the central "
            "database, built from the tenants' curated cost_daily only."
        ),
        check_specs=[TOTALS.spec(key, month_partitions)],
    )
    def cost_cross_org_monthly(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        catalog: Catalog,
        engine: QueryEngine,
        store: ObjectStore,
    ) -> dg.MaterializeResult:
        month = dt.date.fromisoformat(context.partition_key)
        central = finops.settings.environment.central_database
        catalog.ensure_database(central)
        tenants = _mirror_tenant_partitions(finops, catalog, central, month)
        if not tenants:
            raise dg.Failure(
                description=f"no tenant has cost_daily for {month:%Y-%m}; materialize the "
                "tenants' curated partitions of that month first"
            )
        params: dict[str, SqlValue] = {
            "central_database": Identifier(central),
            "year": month.year,
            "month": month.month,
            "period_start": month,
        }
        written = publish_query(
            engine,
            catalog,
            store,
            database=central,
            table=CROSS_ORG,
            lake_root=finops.lake_root,
            month=month,
            athena_select=render(load_sql(f"cross_org/{CROSS_ORG}.sql"), params),
        )
        with engine.session(central) as session:
            check = TOTALS.evaluate(session, params)
            metrics = query_metrics(session, "metrics/cross_org_totals.sql", params)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(central, CROSS_ORG, written),
                **metrics,
                "tenants": ", ".join(tenants),
                **written.stats.plus(session.stats).metadata(),
            },
            check_results=[check],
        )

    return cost_cross_org_monthly
