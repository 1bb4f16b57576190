"""Curated assets: each partition is the result of one SQL file, replaced, never appended."""

from collections.abc import Iterator

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.defs.common.mirror import follow_tenant_partition
from finops_platform.defs.common.partition_range import Reported, materialize_each
from finops_platform.defs.common.partitions import tenant_and_month
from finops_platform.defs.common.sql_checks import (
    keep_if_blocking_checks_pass,
    partition_params,
    query_metrics,
)
from finops_platform.defs.common.tables import (
    column_schema,
    replacing_partition,
    replacing_view,
    table_metadata,
    upstream_fingerprints,
)
from finops_platform.defs.curated.tables import CURATED_TABLES, CuratedTable
from finops_platform.lake import partition_values
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.engine.base import QueryStats
from finops_platform.lib.sql import SqlValue, load_sql, render
from finops_platform.lib.store import ObjectStore
from finops_platform.resources import FinOpsSettings
from finops_platform.settings import TenantConfig


def build_curated_asset(
    spec: CuratedTable, partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> dg.AssetsDefinition:
    key = spec.key

    @dg.asset(
        key=key,
        deps=list(spec.deps),
        group_name=keys.CURATED_GROUP,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds=kinds,
        description=f"{spec.description} SQL: sql/{spec.sql}",
        check_specs=[check.spec(key, partitions_def) for check in spec.checks],
    )
    def curated(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        catalog: Catalog,
        engine: QueryEngine,
        store: ObjectStore,
    ) -> Iterator[Reported]:
        yield from materialize_each(
            context, lambda key: build(spec, key, finops, catalog, engine, store)
        )

    return curated


def build(
    spec: CuratedTable,
    key: dg.MultiPartitionKey,
    finops: FinOpsSettings,
    catalog: Catalog,
    engine: QueryEngine,
    store: ObjectStore,
) -> dg.MaterializeResult:
    """One curated table's tenant x month: its SQL's result, checked, then kept (or, when a
    blocking check fails, the previous version put back). A view is defined instead."""
    org_id, month = tenant_and_month(key)
    tenant = finops.tenant(org_id)
    params = partition_params(tenant, month)
    if spec.view:
        return build_view(spec, tenant, params, finops.lake_root, catalog, engine, store)
    upstream = [keys.table_name(dep) for dep in spec.deps]
    values = partition_values(month, org_id)
    with replacing_partition(
        engine,
        catalog,
        store,
        database=tenant.database,
        table=spec.name,
        lake_root=finops.lake_root,
        month=month,
        sql=render(load_sql(spec.sql), params),
        org_id=org_id,
        upstream=upstream_fingerprints(catalog, tenant.database, upstream, values),
    ) as written:
        check_results, metrics, stats = checked(spec, engine, tenant.database, params)
        if spec.mirrored_centrally:
            central = finops.settings.environment.central_database
            follow_tenant_partition(catalog, central, finops.lake_root, tenant, month)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(tenant.database, spec.name, written),
            **metrics,
            **written.stats.plus(stats).metadata(),
        },
        check_results=check_results,
    )


def checked(
    spec: CuratedTable, engine: QueryEngine, database: str, params: dict[str, SqlValue]
) -> tuple[list[dg.AssetCheckResult], dict[str, object], QueryStats]:
    """A partition's checks and metrics, in one session: raises BlockingCheckFailed (which
    puts the previous version back) when a blocking check failed."""
    with engine.session(database) as session:
        check_results = [check.evaluate(session, params) for check in spec.checks]
        metrics = query_metrics(session, spec.metrics_sql, params) if spec.metrics_sql else {}
    keep_if_blocking_checks_pass(spec.checks, check_results)
    return check_results, metrics, session.stats


def build_view(
    spec: CuratedTable,
    tenant: TenantConfig,
    params: dict[str, SqlValue],
    lake_root: str,
    catalog: Catalog,
    engine: QueryEngine,
    store: ObjectStore,
) -> dg.MaterializeResult:
    """A curated view's tenant x month (`params`): the view (re)defined over the tenant's
    database and checked through it for this month; when a blocking check fails, the previous
    definition is put back. Nothing is written: the month is read from tb_cur_raw whenever the
    view is."""
    with replacing_view(
        engine,
        catalog,
        store,
        database=tenant.database,
        name=spec.name,
        lake_root=lake_root,
        sql=render(load_sql(spec.sql), {"database": params["database"]}),
        org_id=tenant.org_id,
    ) as schema:
        check_results, metrics, stats = checked(spec, engine, tenant.database, params)
    return dg.MaterializeResult(
        metadata={
            "dagster/table_name": f"{tenant.database}.{spec.name}",
            "dagster/column_schema": column_schema(schema, spec.name),
            "view": True,
            **metrics,
            **stats.metadata(),
        },
        check_results=check_results,
    )


def build_curated_assets(
    partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> list[dg.AssetsDefinition]:
    return [build_curated_asset(spec, partitions_def, kinds) for spec in CURATED_TABLES]
