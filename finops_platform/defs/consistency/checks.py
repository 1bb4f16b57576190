"""`layers_agree`: the check that a tenant x month's layers hold one version (layers.py).

It is the last step of every tenant x month run (after every curated table: `additional_deps`),
so each run, a repair run included, ends by proving its layers agree. Between runs the layer
consistency sensor evaluates the same verdict and requests a run where it fails; it does not
post check results itself (docs/ARCHITECTURE.md: a second sensor post for one partition breaks
in Dagster 1.13.27).
"""

import dagster as dg

from finops_platform.defs.common.keys import COST_DAILY, LAYERS_AGREE, TB_CUR_RAW, table_name
from finops_platform.defs.common.partition_range import RANGE_CHECK_DESCRIPTION
from finops_platform.defs.common.partitions import tenant_and_month
from finops_platform.defs.consistency.layers import Lineage, MonthLayers, TenantLayers
from finops_platform.lib.catalog import Catalog, CatalogPartition
from finops_platform.lib.store import ObjectStore
from finops_platform.resources import FinOpsSettings

DESCRIPTION = (
    "The store's raw month, tb_cur_raw's catalog entry, every curated partition and the central "
    "cost_daily hold one version (a run killed or failing between two layers leaves them apart); "
    "between runs the layer_consistency sensor requests the repair of a month that fails it."
)


def central_mirror(finops: FinOpsSettings, catalog: Catalog) -> list[CatalogPartition]:
    """The central cost_daily's partitions (every tenant's)."""
    return catalog.list_partitions(
        finops.settings.environment.central_database, table_name(COST_DAILY)
    )


def tenant_layers(
    finops: FinOpsSettings,
    store: ObjectStore,
    catalog: Catalog,
    org_id: str,
    lineage: Lineage,
    central: list[CatalogPartition] | None = None,
) -> TenantLayers:
    """One look at the layers of a tenant of the environment (`central`: the central mirror's
    partitions when the caller has listed them already)."""
    if central is None:
        central = central_mirror(finops, catalog)
    return TenantLayers(store, catalog, finops.tenant(org_id), finops.lake_root, central, lineage)


def _fields(verdict: MonthLayers) -> dict:
    """A verdict as the fields of a check result or evaluation."""
    return {
        "passed": verdict.agree,
        "severity": dg.AssetCheckSeverity.ERROR,
        "description": verdict.describe(),
        "metadata": {"disagreements": len(verdict.problems)},
    }


def build_layers_check(
    partitions_def: dg.PartitionsDefinition, lineage: Lineage
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=TB_CUR_RAW,
        name=LAYERS_AGREE,
        blocking=False,
        partitions_def=partitions_def,
        additional_deps=list(lineage),
        description=DESCRIPTION,
    )
    def layers_agree(
        context: dg.AssetCheckExecutionContext,
        finops: FinOpsSettings,
        store: ObjectStore,
        catalog: Catalog,
    ) -> dg.AssetCheckResult:
        if context.has_partition_key:
            org_id, month = tenant_and_month(context.partition_key)
            verdict = tenant_layers(finops, store, catalog, org_id, lineage).month(month)
            return dg.AssetCheckResult(**_fields(verdict))
        # A single-run backfill: each partition's verdict, then the one over the range (as
        # partition_range.materialize_each reports the checks of ranged asset steps).
        failing = []
        looked: dict[str, TenantLayers] = {}  # one look (its listings) per tenant of the range
        central = central_mirror(finops, catalog)
        for key in context.op_execution_context.partition_keys:
            org_id, month = tenant_and_month(key)
            if org_id not in looked:
                looked[org_id] = tenant_layers(finops, store, catalog, org_id, lineage, central)
            verdict = looked[org_id].month(month)
            context.op_execution_context.log_event(
                dg.AssetCheckEvaluation(
                    asset_key=TB_CUR_RAW, check_name=LAYERS_AGREE, partition=key, **_fields(verdict)
                )
            )
            if not verdict.agree:
                failing.append(key)
        keys = context.op_execution_context.partition_keys
        return dg.AssetCheckResult(
            passed=not failing,
            severity=dg.AssetCheckSeverity.ERROR,
            description=RANGE_CHECK_DESCRIPTION
            + (f"failed for {', '.join(failing)}" if failing else f"passed for all {len(keys)}"),
            metadata={"partitions": len(keys), "failed_partitions": len(failing)},
        )

    return layers_agree
