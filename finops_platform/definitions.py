"""The Dagster code location: assets, checks, jobs, schedules and resources from the config.

`dagster dev` (workspace.yaml) and `finops run` both load `defs` from here, with settings from
CONFIG_PATH / ENVIRONMENT / FINOPS_HOME.
"""

import datetime as dt
import warnings

import dagster as dg

from finops_platform.defs.alerts.sensors import build_alert_sensors
from finops_platform.defs.anomalies.assets import anomaly_lineage, build_anomaly_assets
from finops_platform.defs.arrivals.sensors import build_arrival_sensors
from finops_platform.defs.catalog.assets import build_tb_cur_raw
from finops_platform.defs.common.keys import CROSS_ORG_JOB, TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import month_partitions, tenant_month_partitions
from finops_platform.defs.consistency.checks import build_layers_check
from finops_platform.defs.consistency.sensors import build_layer_consistency_sensor
from finops_platform.defs.cross_org.assets import build_cross_org_asset
from finops_platform.defs.cross_org.automation import build_cross_org_automation_sensor
from finops_platform.defs.curated.assets import build_curated_assets
from finops_platform.defs.curated.tables import curated_lineage
from finops_platform.defs.freshness.checks import build_freshness_checks
from finops_platform.defs.freshness.schedules import build_freshness_schedule
from finops_platform.defs.raw.assets import build_raw_cur
from finops_platform.defs.refresh.jobs import (
    CROSS_ORG_DESCRIPTION,
    CROSS_ORG_SELECTION,
    TENANT_MONTH_DESCRIPTION,
    tenant_month_selection,
)
from finops_platform.defs.refresh.schedules import build_daily_cross_org, build_daily_refresh
from finops_platform.resources import build_resources, settings_from
from finops_platform.settings import Settings

# Per-partition check results (partitions_def on AssetCheckSpec) are a preview feature in the
# pinned Dagster 1.13.27; without it the UI would show one tenant-month's verdict for all.
warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*AssetCheckSpec.*")
# The cross-org asset maps tenant x month to month with a partition mapping that is beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*MultiToSingleDimension.*")
# Single-run backfills (one run for a range of partitions) are beta too.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
# Sensors carry their tenant's owners (checks cannot take owners); `owners` of a sensor is beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message="Parameter `owners`.*")


def _kinds(settings: Settings) -> dict[str, set[str]]:
    """Kinds tags per layer, from the backend the environment picks."""
    env = settings.environment
    store = "s3" if env.object_store == "s3" else "parquet"
    catalog = "glue" if env.catalog == "glue" else "duckdb"
    return {
        "raw": {store, "duckdb"},
        "catalog": {catalog, env.engine},
        "curated": {env.engine, store},
    }


def build_definitions(settings: Settings, now: dt.datetime | None = None) -> dg.Definitions:
    """Everything of one environment; `now` pins the clock of checks (tests)."""
    partitions = tenant_month_partitions(settings)
    months = month_partitions(settings)
    kinds = _kinds(settings)
    lineage = {**curated_lineage(), **anomaly_lineage()}
    return dg.Definitions(
        assets=[
            build_raw_cur(partitions, kinds["raw"]),
            build_tb_cur_raw(partitions, kinds["catalog"]),
            *build_curated_assets(partitions, kinds["curated"]),
            *build_anomaly_assets(partitions, kinds["curated"]),
            build_cross_org_asset(months, kinds["curated"]),
        ],
        asset_checks=[*build_freshness_checks(settings), build_layers_check(partitions, lineage)],
        jobs=[
            dg.define_asset_job(
                TENANT_MONTH_JOB,
                selection=tenant_month_selection(settings),
                description=TENANT_MONTH_DESCRIPTION,
            ),
            dg.define_asset_job(
                CROSS_ORG_JOB, selection=CROSS_ORG_SELECTION, description=CROSS_ORG_DESCRIPTION
            ),
        ],
        schedules=[
            build_freshness_schedule(settings),
            build_daily_refresh(settings),
            build_daily_cross_org(settings),
        ],
        sensors=[
            *build_arrival_sensors(settings),
            *build_alert_sensors(settings.environment.sensor_interval_seconds),
            build_cross_org_automation_sensor(settings.environment.sensor_interval_seconds),
            build_layer_consistency_sensor(settings, lineage),
        ],
        resources=build_resources(settings, now),
    )


defs = build_definitions(settings_from())
