"""The layer consistency sensor: finds tenant x months whose layers disagree and requests
their repair.

A run killed, or failing on a full disk, between raw_cur and tb_cur_raw (or between two curated
tables) leaves layers of different versions, and nothing requests that month again: the arrival
sensor has requested its delivery already and the daily refresh only covers two months. Each
tick compares the layers of active tenants' months (`layers.py`, the verdict of the
`layers_agree` check) and requests a repair run of a month that disagrees (`repairs.py`: one per
incident, rebuilding what disagrees and what is built from it); the run ends with
`layers_agree`, whose result (and its Slack alert if it fails) is the run's.

On S3 and Glue a comparison costs listings, so the sensor ticks at its own, slower interval,
lists the central mirror once a tick and compares each tenant's latest months every tick and
its older ones a slice at a time, in turn; it requests a few repairs a tick, the rest on the
next. Months with a run queued, in progress, or that ended while the tick compared, are left
alone: mid-run, layers differ.
"""

import datetime as dt

import dagster as dg

from finops_platform.defs.common.keys import TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    partition_key,
    tenant_and_month,
    tenant_month_partitions,
)
from finops_platform.defs.common.process_runs import IN_PROGRESS, fail_dead_runs
from finops_platform.defs.consistency.checks import central_mirror, tenant_layers
from finops_platform.defs.consistency.layers import Lineage, MonthLayers
from finops_platform.defs.consistency.repairs import (
    SENSOR_NAME,
    SensorCursor,
    new_incident,
    read_cursor,
    repair_outcome,
    repair_request,
)
from finops_platform.lib.catalog import Catalog, CatalogEntryError
from finops_platform.lib.store import ObjectStore
from finops_platform.months import current_month, shift_month
from finops_platform.resources import FinOpsSettings
from finops_platform.settings import Settings

# Every tick compares a tenant's current and previous month, and this many older ones in turn.
OLDER_MONTHS_PER_TICK = 6
MAX_REPAIRS_PER_TICK = 4


def busy_partitions(
    instance: dg.DagsterInstance, settings: Settings, filters: dg.RunsFilter | None = None
) -> set[str]:
    """The tenant x month keys of the runs `filters` selects (by default: every run queued or
    in progress), a range run's every key."""
    partitions = tenant_month_partitions(settings)
    busy: set[str] = set()
    for run in instance.get_runs(filters=filters or dg.RunsFilter(statuses=IN_PROGRESS)):
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


def months_to_compare(
    months: list[dt.date], first: dt.date, rotation: int, flagged: set[dt.date]
) -> list[dt.date]:
    """This tick's months of a tenant: the current and previous month, a slice of the older
    ones (the `rotation`th, wrapping round) and those with an open incident."""
    current = current_month()
    recent = shift_month(current, -1)
    loaded = [m for m in months if first <= m <= current]
    older = [m for m in loaded if m < recent]
    start = rotation * OLDER_MONTHS_PER_TICK % len(older) if older else 0
    turn = set((older[start:] + older[:start])[:OLDER_MONTHS_PER_TICK])
    return [m for m in loaded if m >= recent or m in turn or m in flagged]


def build_layer_consistency_sensor(settings: Settings, lineage: Lineage) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job_name=TENANT_MONTH_JOB,
        minimum_interval_seconds=settings.environment.consistency_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Compares raw, catalog, curated and central versions of loaded tenant x months "
            "and requests one repair run per month found disagreeing."
        ),
    )
    def layer_consistency(
        context: dg.SensorEvaluationContext,
        finops: FinOpsSettings,
        store: ObjectStore,
        catalog: Catalog,
    ) -> dg.SensorResult:
        cursor = read_cursor(context.cursor)
        instance = context.instance
        for run_id in fail_dead_runs(instance):
            context.log.warning(f"run {run_id}: its `finops run` process died; marked failed")
        started = dt.datetime.now(dt.UTC)
        verdicts: list[MonthLayers] = []
        kept = {}  # incidents of tenants whose layers could not be compared this tick
        central = central_mirror(finops, catalog)
        open_incidents = {key: tenant_and_month(key) for key in cursor.incidents}
        for tenant in finops.settings.tenants.active():
            flagged = {m: key for key, (org, m) in open_incidents.items() if org == tenant.org_id}
            try:
                layers = tenant_layers(finops, store, catalog, tenant.org_id, lineage, central)
                first = finops.settings.tenant_first_month(tenant)
                months = months_to_compare(layers.months(), first, cursor.rotation, set(flagged))
                verdicts += [layers.month(m) for m in months]
            except CatalogEntryError as exc:  # that partition's next run rebuilds the entry
                context.log.warning(f"{tenant.org_id}: layers not compared: {exc}")
                kept.update({key: cursor.incidents[key] for key in flagged.values()})
        # Read after comparing: a run in progress now, or one that ended (or started and
        # ended) while this tick compared, may have been caught mid-way.
        busy = busy_partitions(instance, finops.settings)
        busy |= busy_partitions(instance, finops.settings, dg.RunsFilter(updated_after=started))
        result = SensorCursor(incidents=kept, rotation=cursor.rotation + 1)
        requests: list[dg.RunRequest] = []
        for verdict in verdicts:
            key = str(partition_key(verdict.org_id, verdict.month))
            incident = cursor.incidents.get(key)
            if key in busy:
                if incident is not None:
                    result.incidents[key] = incident
                continue
            if verdict.agree:
                if incident is not None:
                    context.log.info(verdict.describe())  # repaired
                continue
            outcome = None  # of the incident's repair: None while none has finished
            if incident is not None and incident.run_key is not None:
                outcome = repair_outcome(instance, incident.run_key, key)
            if incident is None or outcome is True:
                incident = new_incident()  # first seen, or found again after a good repair
                context.log.warning(verdict.describe())
            if incident.run_key is None:
                if len(requests) == MAX_REPAIRS_PER_TICK:
                    context.log.info(f"{key}: repair deferred to the next tick")
                else:
                    request = repair_request(
                        verdict, key, incident, lineage, context.repository_def
                    )
                    requests.append(request)
                    incident = incident.model_copy(update={"run_key": request.run_key})
            elif outcome is False and not incident.failure_logged:
                context.log.warning(
                    f"{key}: its repair run ({incident.run_key}) ended without the layers "
                    "agreeing; not requested again: run the month (`finops run`) once the "
                    "cause is fixed, or its next delivery will"
                )
                incident = incident.model_copy(update={"failure_logged": True})
            result.incidents[key] = incident
        return dg.SensorResult(run_requests=requests, cursor=result.model_dump_json())

    return layer_consistency
