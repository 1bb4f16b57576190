"""The curated tables: one SQL file each under `sql/curated/`, registered here in one entry.

A new curated table is a new SQL file plus one entry in CURATED_TABLES; the asset, its catalog
table and its checks are built from the entry.
"""

from dataclasses import dataclass

import dagster as dg

from finops_platform.defs.common import keys
from finops_platform.defs.common.sql_checks import SqlCheck


@dataclass(frozen=True)
class CuratedTable:
    key: dg.AssetKey
    sql: str
    description: str
    deps: tuple[dg.AssetKey, ...]
    checks: tuple[SqlCheck, ...] = ()
    # One-row query whose figures become numeric metadata, plotted per partition in the UI.
    metrics_sql: str | None = None
    # The central database mirrors its partitions (defs/common/mirror.py).
    mirrored_centrally: bool = False
    # A FOCUS dataset: `finops export` writes it as FOCUS tools read it (FOCUS and x_ columns
    # only, timestamps in UTC).
    focus_dataset: bool = False
    # A view over the whole database rather than a table written per partition (`sql` takes
    # only `database`; readers pick partitions with a WHERE on org, year and month): a
    # partition's run defines it and checks that partition through it. For a table as large
    # as the month itself (focus_cost has a row per line item), so no run writes the month a
    # second time; `finops export` writes one month of it on demand.
    view: bool = False

    @property
    def name(self) -> str:
        """Its catalog table's name."""
        return keys.table_name(self.key)


CURATED_TABLES: tuple[CuratedTable, ...] = (
    CuratedTable(
        key=keys.COST_DAILY,
        sql="curated/cost_daily.sql",
        description=(
            "Daily unblended, amortized, net amortized and public cost per account, service, "
            "usage type, operation, region, line item type and currency."
        ),
        deps=(keys.TB_CUR_RAW,),
        metrics_sql="metrics/cost_daily_totals.sql",
        mirrored_centrally=True,
        checks=(
            SqlCheck(
                name=keys.RECONCILES_WITH_RAW,
                sql="validation/reconcile_cost_daily.sql",
                description=(
                    "Per line item type, line item counts and unblended and amortized totals "
                    "equal tb_cur_raw's, to the cent."
                ),
                blocking=True,
            ),
            SqlCheck(
                name=keys.ONE_CURRENCY,
                sql="validation/cost_daily_currencies.sql",
                description=(
                    "The month's costs are in one currency; totals over the month would add "
                    "up several as one (each row keeps its currency)."
                ),
            ),
        ),
    ),
    CuratedTable(
        key=keys.COST_BY_TAG,
        sql="curated/cost_by_tag.sql",
        description=(
            "Showback by the tenant's cost allocation tag keys: cost per tag value (or "
            "'(untagged)'), day, account and service."
        ),
        deps=(keys.TB_CUR_RAW, keys.COST_DAILY),
        checks=(
            SqlCheck(
                name=keys.TAG_PARTS_ADD_UP,
                sql="validation/cost_by_tag_parts.sql",
                description="Each tag key's values plus untagged add up to the total, to the cent.",
                blocking=True,
            ),
            SqlCheck(
                name=keys.TAG_KEYS_FOUND,
                sql="validation/cost_by_tag_keys_found.sql",
                description=(
                    "Every configured tag key tags some of the month's cost; one that tags none "
                    "is likely misspelled in cost_allocation_tags or not activated in AWS."
                ),
                severity=dg.AssetCheckSeverity.WARN,
            ),
        ),
    ),
    CuratedTable(
        key=keys.COST_MONTHLY_SUMMARY,
        sql="curated/cost_monthly_summary.sql",
        description="Month totals per account, service and currency.",
        deps=(keys.COST_DAILY,),
        checks=(
            SqlCheck(
                name=keys.SUMMARY_ADDS_UP,
                sql="validation/monthly_summary_totals.sql",
                description="The summary's amortized total equals cost_daily's, to the cent.",
                blocking=True,
            ),
        ),
    ),
    CuratedTable(
        key=keys.FOCUS_COST,
        sql="curated/focus_cost.sql",
        description=(
            "The tenant's cost as a FOCUS 1.2 dataset, a view over tb_cur_raw: one row per CUR "
            "line item (and one per unused part of a recurring commitment fee), every column "
            "the CUR has a source for."
        ),
        deps=(keys.TB_CUR_RAW, keys.COST_DAILY),
        focus_dataset=True,
        view=True,
        checks=(
            SqlCheck(
                name=keys.FOCUS_ADDS_UP,
                sql="validation/focus_totals.sql",
                description=(
                    "Through the view, the month's BilledCost equals the unblended and "
                    "EffectiveCost the amortized total of cost_daily, to the cent."
                ),
                blocking=True,
            ),
        ),
    ),
    CuratedTable(
        key=keys.COST_BY_WORKLOAD,
        sql="curated/cost_by_workload.sql",
        description=(
            "Kubernetes (EKS) and ECS cost from split cost allocation data: per day, cluster, "
            "namespace and workload, the pods' split and unused (idle) cost, usage and idle share."
        ),
        deps=(keys.TB_CUR_RAW,),
        checks=(
            SqlCheck(
                name=keys.WORKLOADS_ADD_UP,
                sql="validation/workload_reconciles.sql",
                description=(
                    "The workloads' split plus unused cost equals tb_cur_raw's split rows, and "
                    "those equal their parent instances' own amortized cost, to the cent."
                ),
                blocking=True,
            ),
        ),
    ),
)


def focus_datasets() -> frozenset[str]:
    """Catalog table names of the curated tables that are FOCUS datasets."""
    return frozenset(spec.name for spec in CURATED_TABLES if spec.focus_dataset)


def curated_lineage() -> dict[dg.AssetKey, tuple[dg.AssetKey, ...]]:
    """Each curated table's asset -> the assets it is built from, in the order the data flows
    (what the layer consistency check compares). A view is left out: it reads its upstream
    as it is now, so it cannot disagree with it."""
    return {spec.key: spec.deps for spec in CURATED_TABLES if not spec.view}
