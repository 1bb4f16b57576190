"""cost_cross_org_monthly: month totals across tenants, in the central database.

It is built from curated data only: the central `cost_daily`, which mirrors every tenant's
curated cost_daily partitions (defs/common/mirror.py). Its reconciliation check compares with
each tenant's totals computed from its raw month in the tenant's own session, so a curated
table changed out of band fails the check instead of vouching for itself.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.defs.common.mirror import mirror_tenant_partition
from finops_platform.defs.common.partition_range import Reported, materialize_each
from finops_platform.defs.common.partitions import MONTH
from finops_platform.defs.common.sql_checks import (
    SqlCheck,
    keep_if_blocking_checks_pass,
    partition_params,
    query_metrics,
)
from finops_platform.defs.common.tables import (
    registered_partition,
    replacing_partition,
    table_metadata,
    unpublished_files,
)
from finops_platform.defs.cross_org.automation import follow_tenant_months
from finops_platform.lake import partition_values
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import EngineSession, QueryEngine
from finops_platform.lib.sql import Identifier, SqlValue, load_sql, render
from finops_platform.lib.store import ObjectStore
from finops_platform.resources import FinOpsSettings
from finops_platform.settings import TenantConfig

CROSS_ORG = keys.table_name(keys.CROSS_ORG)
SOURCE_TABLE = keys.table_name(keys.COST_DAILY)

# Evaluated by `reconcile_with_raw` (its other side comes from each tenant's own session).
TOTALS = SqlCheck(
    name=keys.MATCHES_TENANT_TOTALS,
    sql="validation/cross_org_tenant_totals.sql",
    description=(
        "Per tenant, the cross-org totals equal that tenant's month computed independently from "
        "its raw line items (tb_cur_raw), to the cent: a curated table changed out of band fails."
    ),
    blocking=True,
)
RAW_TOTALS = "validation/raw_month_totals.sql"
CENT = Decimal("0.005")
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
    mirrored = [
        tenant
        for tenant in finops.settings.tenants.tenants
        if mirror_tenant_partition(catalog, central, finops.lake_root, tenant, month)
    ]
    tenants = [tenant.org_id for tenant in mirrored]
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
        raw = raw_month_totals(engine, mirrored, month)
        altered = altered_files(catalog, store, mirrored, month)
        with engine.session(central) as session:
            results = [
                reconcile_with_raw(session, params, raw, altered),
                *(check.evaluate(session, params) for check in CHECKS if check is not TOTALS),
            ]
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


def raw_month_totals(
    engine: QueryEngine, tenants: list[TenantConfig], month: dt.date
) -> dict[str, dict[str, Decimal]]:
    """Each tenant's month totals from its raw line items, read in the tenant's own session (the
    central one sees curated data only): the side of the reconciliation no curated file feeds."""
    totals = {}
    for tenant in tenants:
        with engine.session(tenant.database) as session:
            (row,) = session.query_file(RAW_TOTALS, partition_params(tenant, month)).to_pylist()
        totals[tenant.org_id] = {name: Decimal(str(value)) for name, value in row.items()}
    return totals


def altered_files(
    catalog: Catalog, store: ObjectStore, tenants: list[TenantConfig], month: dt.date
) -> dict[str, list[str]]:
    """Per tenant, the files of its cost_daily partition that are not as published."""
    altered = {}
    for tenant in tenants:
        values = partition_values(month, tenant.org_id)
        partition = registered_partition(catalog, tenant.database, SOURCE_TABLE, values)
        if partition is not None and (files := unpublished_files(store, partition)):
            altered[tenant.org_id] = files
    return altered


def reconcile_with_raw(
    session: EngineSession,
    params: dict[str, SqlValue],
    raw: dict[str, dict[str, Decimal]],
    altered: dict[str, list[str]],
) -> dg.AssetCheckResult:
    """TOTALS: the cross-org month per tenant against `raw`, exactly (Decimal), to the cent;
    a tenant whose curated files are not as published (`altered`) fails too, as Athena would
    sum an added file."""
    cross = {
        row.pop("org"): {name: Decimal(str(value)) for name, value in row.items()}
        for row in session.query_file(TOTALS.sql, params).to_pylist()
    }
    zero = dict.fromkeys(("unblended_cost", "amortized_cost", "line_items"), Decimal(0))
    differing, largest = [], Decimal(0)
    for org in sorted(raw.keys() | cross.keys()):
        mine, theirs = raw.get(org, zero), cross.get(org, zero)
        difference = max(abs(mine[m] - theirs[m]) for m in ("unblended_cost", "amortized_cost"))
        largest = max(largest, difference)
        if difference >= CENT or mine["line_items"] != theirs["line_items"] or org in altered:
            differing.append(org)
    passed = not differing
    return dg.AssetCheckResult(
        check_name=TOTALS.name,
        passed=passed,
        severity=TOTALS.severity,
        description=TOTALS.description if passed else f"FAILED: {TOTALS.description}",
        metadata={
            "tenants": len(raw.keys() | cross.keys()),
            "tenants_differing": ", ".join(differing) or "none",
            "largest_difference": float(largest),
            "files_not_as_published": "; ".join(
                f"{org}: {', '.join(files)}" for org, files in sorted(altered.items())
            )
            or "none",
        },
    )
