"""`cost_anomalies` and `cost_forecast` (tenant x month): the month's daily cost judged against
its baseline, and its month-end forecast, from cost_daily and cost_by_tag of the month and the
months of history before it (sql/anomalies/, the model in lib/anomalies/).

Every load of a month judges the whole month again, so a restatement re-judges it; the rows,
computed in Python, are written by the engine as a VALUES query through the same partition
swap as the curated tables (defs/common/tables.py).
"""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
import pyarrow as pa

from finops_platform.defs.anomalies.checks import (
    budget_result,
    check_specs,
    new_anomalies_result,
)
from finops_platform.defs.anomalies.tables import anomaly_table, forecast_table
from finops_platform.defs.common import keys
from finops_platform.defs.common.partition_range import Reported, materialize_each
from finops_platform.defs.common.partitions import tenant_and_month
from finops_platform.defs.common.sql_checks import partition_params
from finops_platform.defs.common.tables import (
    raw_table_partition,
    replacing_partition,
    table_metadata,
    upstream_fingerprints,
)
from finops_platform.lake import partition_values
from finops_platform.lib.anomalies.budgets import judge_budgets
from finops_platform.lib.anomalies.detect import detect
from finops_platform.lib.anomalies.forecast import forecast
from finops_platform.lib.anomalies.series import Rows, history_params, history_start
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.sql import SqlValue, values_query
from finops_platform.lib.store import ObjectStore
from finops_platform.months import last_day
from finops_platform.resources import Clock, FinOpsSettings
from finops_platform.settings import TenantConfig

Checks = Callable[[], list[dg.AssetCheckResult]]
DEPS = (keys.TB_CUR_RAW, keys.COST_DAILY, keys.COST_BY_TAG)


class Inputs:
    """What both assets read of one tenant x month: the daily rows with their history, the
    month's currency, the last complete day, and the params of its queries."""

    def __init__(
        self, tenant: TenantConfig, month: dt.date, catalog: Catalog, engine: QueryEngine
    ) -> None:
        self.tenant, self.month = tenant, month
        self.history_start = history_start(month)
        self.params: dict[str, SqlValue] = {
            **partition_params(tenant, month),
            **history_params(month),
        }
        # Asked before the session opens: a session sees the tables the catalog had then, so a
        # table another run of the tenant creates meanwhile (its first month) is not half-seen.
        judged_before = catalog.get_table(tenant.database, keys.table_name(keys.COST_ANOMALIES))
        with engine.session(tenant.database) as session:
            daily = session.query_file("anomalies/daily_cost.sql", self.params)
            tags = session.query_file("anomalies/daily_tag_cost.sql", self.params)
            self.previous = (
                session.query_file("anomalies/previous_anomalies.sql", self.params).to_pylist()
                if judged_before
                else []
            )
            self.stats = session.stats
        self.rows = Rows.from_tables(daily, tags)
        self.currency = _main_currency(daily, month)
        self.complete_until = _complete_until(catalog, tenant, month)


def _main_currency(daily: pa.Table, month: dt.date) -> str:
    """The currency most of the month's cost is in (cost_daily's one_currency check warns
    when there are several)."""
    totals: dict[str, float] = {}
    for row in daily.select(["usage_date", "currency", "cost"]).to_pylist():
        if row["usage_date"] >= month:
            totals[row["currency"] or ""] = totals.get(row["currency"] or "", 0) + abs(row["cost"])
    return max(totals, key=totals.__getitem__, default="")


def _complete_until(catalog: Catalog, tenant: TenantConfig, month: dt.date) -> dt.date:
    """The month's last day whose 24 hours are delivered: the day of the last usage hour when
    that hour is 23:00, else the day before (a month-to-date delivery's last day is partial)."""
    partition = raw_table_partition(catalog, tenant, month)
    last = partition.parameters.get("max_usage_start", "") if partition else ""
    try:
        hour = dt.datetime.fromisoformat(last)
    except ValueError:  # none recorded (an entry older than the profile): the whole month
        return last_day(month)
    return min((hour + dt.timedelta(hours=1)).date() - dt.timedelta(days=1), last_day(month))


def _write(
    inputs: Inputs,
    table_key: dg.AssetKey,
    rows: pa.Table,
    finops: FinOpsSettings,
    catalog: Catalog,
    engine: QueryEngine,
    store: ObjectStore,
    checks: Checks,
) -> dg.MaterializeResult:
    tenant, month = inputs.tenant, inputs.month
    name = keys.table_name(table_key)
    upstream = [keys.table_name(dep) for dep in DEPS]
    values = partition_values(month, tenant.org_id)
    with replacing_partition(
        engine,
        catalog,
        store,
        database=tenant.database,
        table=name,
        lake_root=finops.lake_root,
        month=month,
        sql=values_query(rows),
        org_id=tenant.org_id,
        upstream=upstream_fingerprints(catalog, tenant.database, upstream, values),
    ) as written:
        results = checks()
    return dg.MaterializeResult(
        metadata={
            **table_metadata(tenant.database, name, written),
            "complete_until": str(inputs.complete_until),
            **written.stats.plus(inputs.stats).metadata(),
        },
        check_results=results,
    )


# What one asset makes of a tenant-month's inputs at `now`: its rows, and the check results
# to report once they are written.
Work = Callable[["Inputs", dt.datetime], tuple[pa.Table, Checks]]


def _anomalies(inputs: Inputs, now: dt.datetime) -> tuple[pa.Table, Checks]:
    month, last = inputs.month, inputs.complete_until
    found = (
        detect(inputs.rows, inputs.history_start, (month, last), inputs.tenant.anomaly)
        if last >= month
        else []
    )
    table = anomaly_table(month, found, inputs.previous, inputs.currency, now)
    return table, lambda: [new_anomalies_result(table)]


def _forecast(inputs: Inputs, now: dt.datetime) -> tuple[pa.Table, Checks]:
    month = inputs.month
    forecasts = forecast(inputs.rows, inputs.history_start, month, inputs.complete_until)
    budgets = list(inputs.tenant.budgets)

    def checks() -> list[dg.AssetCheckResult]:
        return [
            budget_result(
                keys.BUDGET_ACTUAL,
                judge_budgets(budgets, forecasts, inputs.currency, on_forecast=False),
                "the cost so far",
            ),
            budget_result(
                keys.BUDGET_FORECAST,
                judge_budgets(budgets, forecasts, inputs.currency, on_forecast=True),
                "the month-end forecast",
            ),
        ]

    return forecast_table(month, forecasts, inputs.currency, now), checks


ASSETS: tuple[tuple[dg.AssetKey, str, tuple[str, ...], Work], ...] = (
    (
        keys.COST_ANOMALIES,
        "Days whose cost rose above the expected band (weekly seasonality and trend, from the "
        "days before), per tenant at the levels total, service, account, usage type and tag "
        "value, with impact and drivers; new, continuing, or withdrawn after a restatement. "
        "Thresholds: the tenant's `anomaly` config.",
        (keys.NEW_COST_ANOMALIES,),
        _anomalies,
    ),
    (
        keys.COST_FORECAST,
        "Month-end forecast of the month's cost with a 90 % prediction interval, per tenant "
        "and per service, account and tag value, from the complete days so far and the "
        "history before them; beside it the naive run rate. Budgets (the tenant's `budgets` "
        "config) are judged against it.",
        (keys.BUDGET_ACTUAL, keys.BUDGET_FORECAST),
        _forecast,
    ),
)


def build_anomaly_asset(
    key: dg.AssetKey,
    description: str,
    checks: tuple[str, ...],
    work: Work,
    partitions_def: dg.PartitionsDefinition,
    kinds: set[str],
) -> dg.AssetsDefinition:
    @dg.asset(
        key=key,
        deps=list(DEPS),
        group_name=keys.ANOMALIES_GROUP,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds=kinds,
        description=description,
        check_specs=check_specs(key, checks, partitions_def),
    )
    def anomaly_asset(
        context: dg.AssetExecutionContext,
        finops: FinOpsSettings,
        catalog: Catalog,
        engine: QueryEngine,
        store: ObjectStore,
        clock: Clock,
    ) -> Iterator[Reported]:
        def one(partition: dg.MultiPartitionKey) -> dg.MaterializeResult:
            org_id, month = tenant_and_month(partition)
            inputs = Inputs(finops.tenant(org_id), month, catalog, engine)
            table, results = work(inputs, clock.now())
            return _write(inputs, key, table, finops, catalog, engine, store, results)

        yield from materialize_each(context, one)

    return anomaly_asset


def anomaly_lineage() -> dict[dg.AssetKey, tuple[dg.AssetKey, ...]]:
    """Each asset of this domain -> the same month's assets it is built from (what the layer
    consistency check compares, as for the curated tables). The months of history before it are
    not compared: a restated earlier month re-judges this one at its next load, not by repair."""
    return {key: DEPS for key, *_ in ASSETS}


def build_anomaly_assets(
    partitions_def: dg.PartitionsDefinition, kinds: set[str]
) -> list[dg.AssetsDefinition]:
    return [build_anomaly_asset(*spec, partitions_def, kinds) for spec in ASSETS]
