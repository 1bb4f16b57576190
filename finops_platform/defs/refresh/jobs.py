"""The jobs sensors and schedules launch: a tenant x month refresh, and the cross-org totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from finops_platform.defs.freshness.checks import freshness_check_keys
from finops_platform.settings import Settings

if TYPE_CHECKING:  # what define_asset_job returns; dagster does not export the name
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

TENANT_MONTH_JOB = "tenant_month_refresh"
# The asset groups of one tenant x month, for this job and for `finops run` alike.
TENANT_MONTH_GROUPS = ("raw", "catalog", "curated")
CROSS_ORG_JOB = "cross_org_refresh"


def build_tenant_month_job(settings: Settings) -> UnresolvedAssetJobDefinition:
    """Every raw, catalog and curated asset of one tenant x month, with their checks.

    The per-tenant freshness checks stay out: they judge today's data on their own schedule.
    """
    return dg.define_asset_job(
        TENANT_MONTH_JOB,
        selection=dg.AssetSelection.groups(*TENANT_MONTH_GROUPS)
        - dg.AssetSelection.checks(*freshness_check_keys(settings)),
        description="Load and check one tenant x month, from the raw CUR to the curated tables.",
    )


def build_cross_org_job() -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        CROSS_ORG_JOB,
        selection=dg.AssetSelection.groups("cross_org"),
        description="Month totals across tenants, from their curated tables.",
    )
