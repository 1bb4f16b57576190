"""The Dagster code location: assets, checks and resources built from the tenants config.

`dagster dev` (workspace.yaml) and `finops run` both load `defs` from here, with settings from
CONFIG_PATH / ENVIRONMENT / FINOPS_HOME.
"""

from __future__ import annotations

import warnings

import dagster as dg

from finops_platform.defs.catalog.assets import build_tb_cur_raw
from finops_platform.defs.raw.assets import build_raw_cur
from finops_platform.partitions import tenant_month_partitions
from finops_platform.resources import build_resources
from finops_platform.settings import Settings, load_settings


def _kinds(settings: Settings) -> tuple[set[str], set[str]]:
    """Kinds tags of the raw and catalog assets, from the backend the environment picks."""
    env = settings.environment
    store = "s3" if env.object_store == "s3" else "parquet"
    catalog = "glue" if env.catalog == "glue" else "duckdb"
    return {store, "duckdb"}, {catalog, env.engine}


# Per-partition check results (partitions_def on AssetCheckSpec) are a preview feature in the
# pinned Dagster 1.13.27; without it the UI would show one tenant-month's verdict for all.
warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*AssetCheckSpec.*")


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions = tenant_month_partitions(settings)
    raw_kinds, catalog_kinds = _kinds(settings)
    return dg.Definitions(
        assets=[
            build_raw_cur(partitions, raw_kinds),
            build_tb_cur_raw(partitions, catalog_kinds),
        ],
        resources=build_resources(settings),
    )


defs = build_definitions(load_settings())
