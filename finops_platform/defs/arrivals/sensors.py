"""CUR arrival sensors: one per active tenant, watching its source path for manifests.

A new manifest, or a changed one (AWS restates the current month several times a day, and can
refresh a closed month), requests that tenant x month again. The cursor remembers each
manifest's ETag, and the run key is the partition plus that ETag, so one delivery is never
requested twice. Deliveries without a manifest yet are partial and wait, and so do those for a
month outside the tenant's months (before its first billing month, or not begun): they are
requested once the months include them.

A delivery that is already live is not requested again, whoever loaded it (`finops run`, a
backfill, a sensor with a lost or fresh cursor): when the cursor has not seen a manifest's ETag,
the sensor reads that small manifest and compares its assembly id (CUR 2.0: its execution id)
with the one tb_cur_raw's catalog partition records as live. The catalog is the source of truth
of what is live and does not depend on Dagster's history. A tick that sees only known ETags reads
no manifest and no catalog.
"""

import json

import dagster as dg

from finops_platform.defs.arrivals.live import LiveAssemblies
from finops_platform.defs.common.keys import TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import partition_key
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.cur.arrivals import find_arrivals
from finops_platform.lib.store import ObjectStore
from finops_platform.months import current_month
from finops_platform.resources import FinOpsSettings
from finops_platform.settings import Settings, TenantConfig

# The cursor: manifest URI -> ETag, of the deliveries requested and of those skipped (warned of).
REQUESTED = "requested"
SKIPPED = "skipped"


def arrival_sensor_name(org_id: str) -> str:
    return f"cur_arrivals_{org_id}"


def build_arrival_sensor(tenant: TenantConfig, interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name=arrival_sensor_name(tenant.org_id),
        job_name=TENANT_MONTH_JOB,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"New or restated CUR deliveries in {tenant.source_path}",
        owners=list(tenant.owners) or None,  # the tenant's owners (settings: Dagster's format)
    )
    def cur_arrivals(
        context: dg.SensorEvaluationContext,
        finops: FinOpsSettings,
        store: ObjectStore,
        catalog: Catalog,
    ) -> dg.SensorResult:
        state = json.loads(context.cursor) if context.cursor else {}
        requested: dict[str, str] = state.get(REQUESTED, {})
        skipped: dict[str, str] = state.get(SKIPPED, {})
        configured = finops.tenant(tenant.org_id)
        first = finops.settings.tenant_first_month(configured)
        current = current_month()
        requests = []
        live = LiveAssemblies(store, catalog, configured)
        for arrival in find_arrivals(store, configured):
            manifest = arrival.manifest
            if requested.get(manifest.uri) == manifest.etag:
                continue
            if not first <= arrival.month <= current:
                # Not marked requested, so it is requested once the months are widened (or the
                # month begins); marked skipped, so the warning is logged once, not every tick.
                if skipped.get(manifest.uri) != manifest.etag:
                    context.log.warning(
                        f"{tenant.org_id}: {manifest.uri} is for {arrival.month:%Y-%m}, outside "
                        f"the tenant's months {first:%Y-%m}..{current:%Y-%m} (from its "
                        "first_billing_month); not loaded until they include it"
                    )
                    skipped[manifest.uri] = manifest.etag
                continue
            requested[manifest.uri] = manifest.etag
            skipped.pop(manifest.uri, None)
            if live.is_live(arrival):
                context.log.info(
                    f"{tenant.org_id}: {manifest.uri} is the live version of "
                    f"{arrival.month:%Y-%m} already (assembly {live.assembly_id(arrival)}); "
                    "not requested"
                )
                continue
            key = partition_key(tenant.org_id, arrival.month)
            requests.append(
                dg.RunRequest(
                    partition_key=key,
                    run_key=f"{key}:{manifest.etag}",
                    tags={"finops/manifest": manifest.uri, "finops/manifest_etag": manifest.etag},
                )
            )
        state = {REQUESTED: requested, SKIPPED: skipped}
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(state, sort_keys=True))

    return cur_arrivals


def build_arrival_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    interval = settings.environment.sensor_interval_seconds
    return [build_arrival_sensor(t, interval) for t in settings.tenants.active()]
