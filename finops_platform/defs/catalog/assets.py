"""tb_cur_raw: the raw month registered in the tenant's catalog database.

In the embedded mode the catalog is local (views over the lake's Parquet); in AWS it is Glue.
After registering, the asset reads the partition back through the query engine, so a
materialization proves the month is queryable as `custos_<org>_db.tb_cur_raw`.
"""

import dagster as dg

from finops_platform.defs.catalog.tables import RAW_TABLE, partition_values, raw_table
from finops_platform.defs.raw.assets import RAW_CUR
from finops_platform.lib.catalog import Catalog, CatalogPartition
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.sql import Identifier
from finops_platform.partitions import tenant_and_month
from finops_platform.resources import FinOpsSettings

TB_CUR_RAW = dg.AssetKey(RAW_TABLE)


def build_tb_cur_raw(
    partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> dg.AssetsDefinition:
    @dg.asset(
        key=TB_CUR_RAW,
        deps=[RAW_CUR],
        group_name="catalog",
        partitions_def=partitions_def,
        kinds=kinds,
        description=(
            "The raw month registered as a partition (org, year, month) of tb_cur_raw in the "
            "tenant's catalog database custos_<org>_db."
        ),
    )
    def tb_cur_raw(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        catalog: Catalog,
        engine: QueryEngine,
    ) -> dg.MaterializeResult:
        org_id, month = tenant_and_month(context.partition_key)
        tenant = finops.tenant(org_id)
        table = raw_table(tenant, finops.lake_root)
        catalog.ensure_database(tenant.database)
        catalog.upsert_table(table)
        values = partition_values(tenant, month)
        location = f"{table.location}year={month.year}/month={month.month}/"
        catalog.upsert_partition(
            tenant.database, RAW_TABLE, CatalogPartition(values=values, location=location)
        )
        with engine.session(tenant) as session:
            summary = session.query_file(
                "validation/raw_partition_summary.sql",
                {
                    "database": Identifier(tenant.database),
                    "org": org_id,
                    "year": month.year,
                    "month": month.month,
                },
            ).to_pylist()[0]
        parameters = {
            "row_count": str(summary["row_count"]),
            "assembly_id": summary["assembly_id"] or "",
            "max_usage_start": str(summary["max_usage_start"]),
        }
        catalog.upsert_partition(
            tenant.database,
            RAW_TABLE,
            CatalogPartition(values=values, location=location, parameters=parameters),
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/table_name": f"{tenant.database}.{RAW_TABLE}",
                "dagster/row_count": summary["row_count"],
                "dagster/uri": location,
                "partition": ", ".join(f"{k}={v}" for k, v in values.items()),
                "unblended_cost": float(summary["unblended_cost"] or 0),
                "max_usage_start": str(summary["max_usage_start"]),
            }
        )

    return tb_cur_raw
