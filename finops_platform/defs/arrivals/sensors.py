"""CUR arrival sensors: one per active tenant, watching its source path for manifests.

A new manifest, or a changed one (AWS restates the current month several times a day, and can
refresh a closed month), requests that tenant x month again. The cursor remembers each
manifest's ETag, and the run key is the partition plus that ETag, so one delivery is never
requested twice. Deliveries without a manifest yet are partial and wait.
"""

import datetime as dt
import json
from typing import TYPE_CHECKING

import dagster as dg

from finops_platform.lib.cur.arrivals import find_arrivals
from finops_platform.lib.store import ObjectStore
from finops_platform.partitions import partition_key
from finops_platform.resources import FinOpsSettings
from finops_platform.settings import Settings, TenantConfig

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )


def arrival_sensor_name(org_id: str) -> str:
    return f"cur_arrivals_{org_id}"


def build_arrival_sensor(
    tenant: TenantConfig, job: "UnresolvedAssetJobDefinition", interval_seconds: int
) -> dg.SensorDefinition:
    @dg.sensor(
        name=arrival_sensor_name(tenant.org_id),
        job=job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"New or restated CUR deliveries in {tenant.source_path}",
    )
    def cur_arrivals(
        context: dg.SensorEvaluationContext, finops: FinOpsSettings, store: ObjectStore
    ) -> dg.SensorResult:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        first = finops.settings.first_month
        current = dt.datetime.now(dt.UTC).date().replace(day=1)
        requests = []
        for arrival in find_arrivals(store, finops.tenant(tenant.org_id)):
            manifest = arrival.manifest
            if seen.get(manifest.uri) == manifest.etag:
                continue
            seen[manifest.uri] = manifest.etag
            if not first <= arrival.month <= current:
                context.log.warning(
                    f"{tenant.org_id}: {manifest.uri} is for {arrival.month:%Y-%m}, outside the "
                    f"partitions {first:%Y-%m}..{current:%Y-%m}; not loaded"
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
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))

    return cur_arrivals


def build_arrival_sensors(
    settings: Settings, job: "UnresolvedAssetJobDefinition"
) -> list[dg.SensorDefinition]:
    interval = settings.environment.sensor_interval_seconds
    return [build_arrival_sensor(t, job, interval) for t in settings.tenants.active()]
