"""Curated assets: each partition is the result of one SQL file, replaced, never appended."""

import dagster as dg

from finops_platform.defs.catalog.tables import (
    column_schema,
    curated_location,
    curated_table,
    partition_location,
    partition_values,
)
from finops_platform.defs.curated.tables import CURATED_TABLES, CuratedTable
from finops_platform.defs.sql_checks import partition_params
from finops_platform.lib.catalog import Catalog, CatalogPartition
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.sql import load_sql, render
from finops_platform.lib.store import ObjectStore
from finops_platform.partitions import tenant_and_month
from finops_platform.resources import FinOpsSettings


def build_curated_asset(
    spec: CuratedTable, partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> dg.AssetsDefinition:
    key = dg.AssetKey(spec.name)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(dep) for dep in spec.deps],
        group_name="curated",
        partitions_def=partitions_def,
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
    ) -> dg.MaterializeResult:
        org_id, month = tenant_and_month(context.partition_key)
        tenant = finops.tenant(org_id)
        params = partition_params(tenant, month)
        location = partition_location(curated_location(finops.lake_root, spec.name, org_id), month)
        written = engine.write_partition(
            tenant.database, render(load_sql(spec.sql), params), location
        )
        table = curated_table(tenant.database, spec.name, finops.lake_root, written.schema, org_id)
        catalog.upsert_table(table)
        catalog.upsert_partition(
            tenant.database,
            spec.name,
            CatalogPartition(values=partition_values(month, org_id), location=written.location),
        )
        store.retire(location, keep=written.location)
        with engine.session(tenant.database) as session:
            check_results = [check.evaluate(session, params) for check in spec.checks]
        return dg.MaterializeResult(
            metadata={
                "dagster/table_name": f"{tenant.database}.{spec.name}",
                "dagster/row_count": written.rows,
                "dagster/uri": written.location,
                "dagster/column_schema": column_schema(written.schema),
                "bytes": written.bytes,
                **written.stats.plus(session.stats).metadata(),
            },
            check_results=check_results,
        )

    return curated


def build_curated_assets(
    partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> list[dg.AssetsDefinition]:
    return [build_curated_asset(spec, partitions_def, kinds) for spec in CURATED_TABLES]
