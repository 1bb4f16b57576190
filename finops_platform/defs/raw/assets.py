"""raw_cur: each tenant's CUR delivery for a month, normalized into the lake.

The delivery is validated on a staged copy before it replaces the live month
(docs/ARCHITECTURE.md: a check that fails after the swap would already have replaced good data),
so the checks below report what was validated; a delivery that fails an ERROR check fails the run
and changes nothing.
"""

from collections.abc import Iterator

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.defs.common.history import latest_metadata
from finops_platform.defs.common.partition_range import Reported, materialize_each
from finops_platform.defs.common.partitions import tenant_and_month
from finops_platform.defs.common.tables import column_schema
from finops_platform.lib.catalog.base import INGEST_MODE, PUBLISHED_FILES, SUPPLIED_COLUMNS
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.ingest import IngestResult, MonthIngest
from finops_platform.lib.cur.schema import CANONICAL_SCHEMA
from finops_platform.resources import FinOpsSettings

RAW_CUR = keys.RAW_CUR

RAW_CHECKS = {
    keys.RAW_SCHEMA: (
        True,
        "Blocking. Every required CUR column is present with a usable type, and the delivery "
        "maps onto the canonical schema.",
    ),
    keys.RAW_PARTITION_VALIDITY: (
        False,
        "Every row's usage start and billing period lie in the partition's month.",
    ),
    keys.RAW_ROW_COUNT: (
        False,
        "The month has rows; a restatement losing over half its rows warns.",
    ),
    keys.RAW_UNIQUE_LINE_ITEMS: (
        False,
        "(identity_line_item_id, identity_time_interval) is unique.",
    ),
    keys.RAW_FINITE_COSTS: (
        False,
        "No cost is NaN or infinite (a single one would poison every total).",
    ),
}


def _check_results(result: IngestResult) -> list[dg.AssetCheckResult]:
    schema = dg.AssetCheckResult(
        check_name=keys.RAW_SCHEMA,
        passed=True,
        metadata={
            "format": result.delivery.format,
            "columns": len(CANONICAL_SCHEMA),
            "source_files": len(result.delivery.data_files),
        },
    )
    return [schema] + [
        dg.AssetCheckResult(
            check_name=outcome.name,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity(outcome.severity),
            description=outcome.description,
            metadata=outcome.metadata,
        )
        for outcome in result.outcomes
    ]


def build_raw_cur(partitions_def: dg.PartitionsDefinition, kinds: set[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=RAW_CUR,
        group_name=keys.RAW_GROUP,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds=kinds,
        description=(
            "The tenant's CUR delivery for the month, copied from its source_path into "
            "custos/cur/org=/year=/month=, normalized to the canonical (CUR 2.0) schema and "
            "replaced atomically."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                name,
                asset=RAW_CUR,
                blocking=blocking,
                description=text,
                partitions_def=partitions_def,
            )
            for name, (blocking, text) in RAW_CHECKS.items()
        ],
        metadata={"dagster/column_schema": column_schema(CANONICAL_SCHEMA)},
    )
    def raw_cur(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        cur_ingest: MonthIngest,
    ) -> Iterator[Reported]:
        yield from materialize_each(context, lambda key: ingest(context, key, finops, cur_ingest))

    return raw_cur


def ingest(
    context: dg.AssetExecutionContext,
    key: dg.MultiPartitionKey,
    finops: FinOpsSettings,
    cur_ingest: MonthIngest,
) -> dg.MaterializeResult:
    """raw_cur of one tenant x month, loaded where the backend loads it (`cur_ingest`: on this
    machine, or inside Athena). The row count of its own last load is the baseline a
    restatement that loses rows is compared with."""
    org_id, month = tenant_and_month(key)
    tenant = finops.tenant(org_id)
    previous = latest_metadata(context.instance, RAW_CUR, str(key))
    try:
        result = cur_ingest.ingest(
            tenant,
            month,
            finops.lake_root,
            previous_row_count=int(previous["dagster/row_count"]) if previous else None,
        )
    except DeliveryError as exc:
        raise dg.Failure(description=str(exc)) from exc
    profile = result.profile
    context.log.info(
        f"{org_id} {month:%Y-%m}: {profile.row_count} rows, unblended "
        f"{profile.unblended_cost:.6f} from {len(result.delivery.data_files)} file(s)"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": profile.row_count,
            "dagster/uri": result.location,
            "bytes": sum(result.files.values()),
            "files": len(result.files),
            # tb_cur_raw registers exactly these, so readers never sum a file added out of band.
            PUBLISHED_FILES: dg.MetadataValue.json(result.files),
            # Whether the delivery's files were published as they are or normalized, and for
            # a pass-through the columns readers supply (tb_cur_raw records both).
            INGEST_MODE: result.mode,
            "ingest_mode_reason": result.mode_reason,
            **(
                {SUPPLIED_COLUMNS: dg.MetadataValue.json(result.supplied.model_dump())}
                if result.supplied
                else {}
            ),
            "source_format": result.delivery.format,
            "source_files": len(result.delivery.data_files),
            "source_bytes": result.delivery.total_bytes,
            "manifest": result.delivery.manifest.uri if result.delivery.manifest else "none",
            "assembly_id": result.delivery.assembly_id or "none (no manifest)",
            "max_usage_start": str(profile.max_usage_start),
            "usage_accounts": profile.usage_accounts,
            "payer_accounts": profile.payer_accounts,
            "unblended_cost": float(profile.unblended_cost),
            **result.stats.metadata(),
        },
        check_results=_check_results(result),
    )
