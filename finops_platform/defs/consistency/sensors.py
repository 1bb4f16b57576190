"""The layer consistency sensor: finds tenant x months whose layers disagree and requests
their repair.

A run killed, or failing on a full disk, between raw_cur and tb_cur_raw (or between two curated
tables) leaves layers of different versions, and nothing requests that month again: the arrival
sensor has requested its delivery already and the daily refresh only covers two months. Each
tick compares the layers of every loaded month of every active tenant (`layers.py`, the verdict
of the `layers_agree` check) and requests one run of the tenant x month job for a month that
disagrees; the run rebuilds every layer from the delivery and ends with `layers_agree`, whose
result (and its Slack alert if it fails) is the run's. The run key carries the disagreement's
state, so a repair that fails is not requested again until something changes; the cursor holds
the failing months, so each is logged once. Months with a run queued or in progress are left
alone: mid-run, layers differ.
"""

import json

import dagster as dg

from finops_platform.defs.common.keys import TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    partition_key,
    tenant_month_partitions,
)
from finops_platform.defs.common.process_runs import IN_PROGRESS, fail_dead_runs
from finops_platform.defs.consistency.checks import tenant_layers
from finops_platform.defs.consistency.layers import Lineage
from finops_platform.lib.catalog import Catalog, CatalogEntryError
from finops_platform.lib.store import ObjectStore
from finops_platform.months import current_month
from finops_platform.resources import FinOpsSettings
from finops_platform.settings import Settings

SENSOR_NAME = "layer_consistency"
REPAIR_TAG = "finops/repair"


def busy_partitions(instance: dg.DagsterInstance, settings: Settings) -> set[str]:
    """The tenant x month keys of every queued or running run (a range run's every key)."""
    partitions = tenant_month_partitions(settings)
    busy: set[str] = set()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        tags = run.tags
        if RANGE_START_TAG in tags:
            span = dg.PartitionKeyRange(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
            try:
                busy.update(partitions.get_partition_keys_in_range(span))
            except Exception:  # a range of another partitioning (cross-org months)
                continue
        elif PARTITION_TAG in tags:
            busy.add(tags[PARTITION_TAG])
    return busy


def build_layer_consistency_sensor(settings: Settings, lineage: Lineage) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job_name=TENANT_MONTH_JOB,
        minimum_interval_seconds=settings.environment.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Compares raw, catalog, curated and central versions of every loaded tenant x "
            "month and requests a run of the months that disagree."
        ),
    )
    def layer_consistency(
        context: dg.SensorEvaluationContext,
        finops: FinOpsSettings,
        store: ObjectStore,
        catalog: Catalog,
    ) -> dg.SensorResult:
        failing: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        for run_id in fail_dead_runs(context.instance):
            context.log.warning(f"run {run_id}: its `finops run` process died; marked failed")
        busy = busy_partitions(context.instance, finops.settings)
        still_failing: dict[str, str] = {}
        requests = []
        current = current_month()
        for tenant in finops.settings.tenants.active():
            first = finops.settings.tenant_first_month(tenant)
            try:
                layers = tenant_layers(finops, store, catalog, tenant.org_id, lineage)
                verdicts = [layers.month(m) for m in layers.months() if first <= m <= current]
            except CatalogEntryError as exc:  # that partition's next run rebuilds the entry
                context.log.warning(f"{tenant.org_id}: layers not compared: {exc}")
                prefix = f"|{tenant.org_id}"
                still_failing.update({k: v for k, v in failing.items() if k.endswith(prefix)})
                continue
            for verdict in verdicts:
                key = str(partition_key(verdict.org_id, verdict.month))
                if key in busy:
                    if key in failing:
                        still_failing[key] = failing[key]
                    continue
                if verdict.agree:
                    if key in failing:
                        context.log.info(verdict.describe())  # repaired
                    continue
                still_failing[key] = verdict.state
                if failing.get(key) == verdict.state:
                    continue  # reported and requested already
                context.log.warning(f"{verdict.describe()}; requesting a run of the month")
                requests.append(
                    dg.RunRequest(
                        partition_key=key,
                        run_key=f"{SENSOR_NAME}:{key}:{verdict.state}",
                        tags={REPAIR_TAG: verdict.describe()[:4000]},
                    )
                )
        return dg.SensorResult(
            run_requests=requests,
            cursor=json.dumps(still_failing, sort_keys=True),
        )

    return layer_consistency
