"""tb_cur_raw: the raw month registered in the tenant's catalog database.

It registers the very version `raw_cur` published and checked (the `dagster/uri` of raw_cur's
latest materialization of the partition), not whatever the store holds now.

In the embedded mode the catalog is local (views over the lake's Parquet); in AWS it is Glue.
After registering, the asset reads the partition back through the query engine, so a
materialization proves the month is queryable as `custos_<org>_db.tb_cur_raw`. A closed month is
also checked for completeness (its data reaches the month's last day); the current month's
freshness is judged by the per-tenant SLA checks on a schedule.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.defs.common.history import latest_metadata
from finops_platform.defs.common.partition_range import Reported, materialize_each
from finops_platform.defs.common.partitions import tenant_and_month
from finops_platform.defs.common.sql_checks import SqlCheck, partition_params
from finops_platform.defs.common.tables import raw_table
from finops_platform.lake import RAW_TABLE, partition_location, partition_values
from finops_platform.lib.catalog import Catalog, CatalogPartition
from finops_platform.lib.catalog.base import (
    INGEST_MODE,
    PUBLISHED_FILES,
    SUPPLIED_COLUMNS,
    SuppliedColumns,
    published_files_parameter,
)
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.store import ObjectStore
from finops_platform.resources import Clock, FinOpsSettings

TB_CUR_RAW = keys.TB_CUR_RAW
# How long a killed registration's lock of a tenant's tb_cur_raw holds out (S3).
REGISTRATION_LEASE = dt.timedelta(minutes=5)

COMPLETENESS = SqlCheck(
    name=keys.MONTH_COMPLETE,
    sql="validation/month_completeness.sql",
    description="A closed billing month's data reaches the month's last day.",
    severity=dg.AssetCheckSeverity.WARN,
)


def build_tb_cur_raw(
    partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> dg.AssetsDefinition:
    @dg.asset(
        key=TB_CUR_RAW,
        deps=[keys.RAW_CUR],
        group_name=keys.CATALOG_GROUP,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds=kinds,
        description=(
            "The raw month registered as a partition (org, year, month) of tb_cur_raw in the "
            "tenant's catalog database custos_<org>_db."
        ),
        check_specs=[COMPLETENESS.spec(TB_CUR_RAW, partitions_def)],
    )
    def tb_cur_raw(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        catalog: Catalog,
        engine: QueryEngine,
        store: ObjectStore,
        clock: Clock,
    ) -> Iterator[Reported]:
        yield from materialize_each(
            context, lambda key: register(context, key, finops, catalog, engine, store, clock)
        )

    return tb_cur_raw


def ingest_parameters(published: dict[str, object]) -> dict[str, str]:
    """How raw_cur wrote the version, and what its readers supply (a pass-through month's
    lineage), as partition parameters; none for a materialization older than the record."""
    parameters = {}
    if isinstance(published.get(INGEST_MODE), str):
        parameters[INGEST_MODE] = str(published[INGEST_MODE])
    supplied = published.get(SUPPLIED_COLUMNS)
    if isinstance(supplied, dict):
        parameters |= SuppliedColumns.model_validate(supplied).parameters()
    return parameters


def register(
    context: dg.AssetExecutionContext,
    key: dg.MultiPartitionKey,
    finops: FinOpsSettings,
    catalog: Catalog,
    engine: QueryEngine,
    store: ObjectStore,
    clock: Clock,
) -> dg.MaterializeResult:
    """tb_cur_raw of one tenant x month."""
    org_id, month = tenant_and_month(key)
    tenant = finops.tenant(org_id)
    table = raw_table(tenant, finops.lake_root)
    catalog.ensure_database(tenant.database)
    values = partition_values(month, org_id)
    month_uri = partition_location(table.location, month)
    published = latest_metadata(context.instance, keys.RAW_CUR, str(key))
    if published is None:
        raise dg.Failure(
            description=f"tenant {org_id!r}, month {month:%Y-%m}: raw_cur has not loaded this "
            "month yet; materialize raw_cur of the partition first"
        )
    location = str(published["dagster/uri"])
    # The files raw_cur published (absent in a materialization older than the list: readers
    # then read every file of the location).
    files = published.get(PUBLISHED_FILES)
    listed = published_files_parameter(files) if isinstance(files, dict) else {}
    listed |= ingest_parameters(published)
    # One write registers the partition with all its parameters, as raw_cur profiled them: a
    # run killed before the read-back below leaves a complete entry, never an empty one.
    profiled = {
        "row_count": str(published.get("dagster/row_count", "")),
        "assembly_id": str(published.get("assembly_id", ""))
        if published.get("manifest") not in (None, "none")
        else "",
        "max_usage_start": str(published.get("max_usage_start", "")),
        **listed,
    }
    # Registrations of the tenant's months take turns: on Glue one may turn the table into a
    # files table plus a view, which another registering meanwhile could miss (glue.py). Held
    # for a few catalog calls, so a killed run's lock is taken over after minutes, not hours.
    with store.exclusive(table.location, lease=REGISTRATION_LEASE):
        catalog.upsert_table(table)
        catalog.upsert_partition(
            tenant.database,
            RAW_TABLE,
            CatalogPartition(values=values, location=location, parameters=profiled),
        )
    store.retire(month_uri, keep=location)
    params = partition_params(tenant, month)
    with engine.session(tenant.database) as session:
        summary = session.query_file("validation/raw_partition_summary.sql", params)
        summary = summary.to_pylist()[0]
        now = clock.now()
        if month < now.date().replace(day=1):
            completeness = COMPLETENESS.evaluate(session, params)
        else:
            completeness = dg.AssetCheckResult(
                check_name=COMPLETENESS.name,
                passed=True,
                severity=COMPLETENESS.severity,
                description="month to date: judged by the tenant's freshness SLA check",
            )
    parameters = {
        "row_count": str(summary["row_count"]),
        "assembly_id": summary["assembly_id"] or "",
        "max_usage_start": str(summary["max_usage_start"]),
        **listed,
    }
    if parameters != profiled:  # what the rows say wins (e.g. metadata of an older version)
        with store.exclusive(table.location, lease=REGISTRATION_LEASE):
            catalog.upsert_partition(
                tenant.database,
                RAW_TABLE,
                CatalogPartition(values=values, location=location, parameters=parameters),
            )
    lag = {}
    if summary["max_usage_start"] and month == now.date().replace(day=1):
        hours = (now - summary["max_usage_start"]).total_seconds() / 3600
        lag = {"hours_lag": round(hours, 2), "sla_hours": tenant.sla_hours}
    return dg.MaterializeResult(
        metadata={
            **lag,
            "dagster/table_name": f"{tenant.database}.{RAW_TABLE}",
            "dagster/row_count": summary["row_count"],
            "dagster/uri": location,
            "partition": ", ".join(f"{k}={v}" for k, v in values.items()),
            "unblended_cost": float(summary["unblended_cost"] or 0),
            "max_usage_start": str(summary["max_usage_start"]),
            **session.stats.metadata(),
        },
        check_results=[completeness],
    )
