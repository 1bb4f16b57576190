"""cost_cross_org_monthly: month totals across tenants, in the central database.

It reads curated data only: the central `cost_daily`, which mirrors every tenant's curated
cost_daily partitions (defs/common/mirror.py).
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.defs.common.mirror import mirror_tenant_partition
from finops_platform.defs.common.partition_range import Reported, materialize_each
from finops_platform.defs.common.partitions import MONTH
from finops_platform.defs.common.sql_checks import (
    SqlCheck,
    keep_if_blocking_checks_pass,
    query_metrics,
)
from finops_platform.defs.common.tables import replacing_partition, table_metadata
from finops_platform.defs.cross_org.automation import follow_tenant_months
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.sql import Identifier, SqlValue, load_sql, render
from finops_platform.lib.store import ObjectStore
from finops_platform.resources import FinOpsSettings

CROSS_ORG = keys.table_name(keys.CROSS_ORG)

TOTALS = SqlCheck(
    name=keys.MATCHES_TENANT_TOTALS,
    sql="validation/cross_org_totals.sql",
    description="Per tenant, the cross-org totals equal that tenant's curated cost_daily.",
    blocking=True,
)
CURRENCIES = SqlCheck(
    name=keys.ONE_CURRENCY,
    sql="validation/cross_org_currencies.sql",
    description=(
        "All tenants' costs of the month are in one currency; totals across tenants would add "
        "up several as one (each row keeps its currency)."
    ),
)
CHECKS = (TOTALS, CURRENCIES)


def build_cross_org_asset(
    month_partitions: dg.PartitionsDefinition, kinds: set[str]
) -> dg.AssetsDefinition:
    key = keys.CROSS_ORG

    @dg.asset(
        key=key,
        deps=[
            dg.AssetDep(
                keys.COST_DAILY,
                partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
                    partition_dimension_name=MONTH
                ),
            )
        ],
        group_name=keys.CROSS_ORG_GROUP,
        partitions_def=month_partitions,
        automation_condition=follow_tenant_months(),
        kinds=kinds,
        description=(
            "Month totals per tenant, account and service across all tenants, in the central "
            "database, built from the tenants' curated cost_daily only."
        ),
        check_specs=[check.spec(key, month_partitions) for check in CHECKS],
    )
    def cost_cross_org_monthly(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        catalog: Catalog,
        engine: QueryEngine,
        store: ObjectStore,
    ) -> Iterator[Reported]:
        yield from materialize_each(
            context, lambda key: build(dt.date.fromisoformat(key), finops, catalog, engine, store)
        )

    return cost_cross_org_monthly


def build(
    month: dt.date,
    finops: FinOpsSettings,
    catalog: Catalog,
    engine: QueryEngine,
    store: ObjectStore,
) -> dg.MaterializeResult:
    """One month across tenants, checked against the tenants' totals, then kept (or, when the
    check fails, the previous version put back)."""
    central = finops.settings.environment.central_database
    catalog.ensure_database(central)
    tenants = [
        tenant.org_id
        for tenant in finops.settings.tenants.tenants
        if mirror_tenant_partition(catalog, central, finops.lake_root, tenant, month)
    ]
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
    with replacing_partition(
        engine,
        catalog,
        store,
        database=central,
        table=CROSS_ORG,
        lake_root=finops.lake_root,
        month=month,
        sql=render(load_sql(f"cross_org/{CROSS_ORG}.sql"), params),
    ) as written:
        with engine.session(central) as session:
            results = [check.evaluate(session, params) for check in CHECKS]
            metrics = query_metrics(session, "metrics/cross_org_totals.sql", params)
        keep_if_blocking_checks_pass(CHECKS, results)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(central, CROSS_ORG, written),
            **metrics,
            "tenants": ", ".join(tenants),
            **written.stats.plus(session.stats).metadata(),
        },
        check_results=results,
    )
