"""The registry of asset keys, groups, check and job names: every domain, job, sensor, runner
and dashboard page names an asset, a check or a job from here, so a rename is one edit.
"""

import dagster as dg

from finops_platform.lake import RAW_TABLE
from finops_platform.settings import Settings

# Assets, in the order the data flows.
RAW_CUR = dg.AssetKey("raw_cur")
TB_CUR_RAW = dg.AssetKey(RAW_TABLE)
COST_DAILY = dg.AssetKey("cost_daily")
COST_BY_TAG = dg.AssetKey("cost_by_tag")
COST_MONTHLY_SUMMARY = dg.AssetKey("cost_monthly_summary")
COST_BY_WORKLOAD = dg.AssetKey("cost_by_workload")
FOCUS_COST = dg.AssetKey("focus_cost")
COST_ANOMALIES = dg.AssetKey("cost_anomalies")
COST_FORECAST = dg.AssetKey("cost_forecast")
CROSS_ORG = dg.AssetKey("cost_cross_org_monthly")

# Groups in the UI. A tenant x month run materializes all but cross_org.
RAW_GROUP = "raw"
CATALOG_GROUP = "catalog"
CURATED_GROUP = "curated"
CROSS_ORG_GROUP = "cross_org"
ANOMALIES_GROUP = "anomalies"
TENANT_MONTH_GROUPS = (RAW_GROUP, CATALOG_GROUP, CURATED_GROUP, ANOMALIES_GROUP)

# Checks of raw_cur, evaluated on the staged month before it replaces the live one.
RAW_SCHEMA = "raw_schema"
RAW_PARTITION_VALIDITY = "raw_partition_validity"
RAW_ROW_COUNT = "raw_row_count"
RAW_UNIQUE_LINE_ITEMS = "raw_unique_line_items"
RAW_FINITE_COSTS = "raw_finite_costs"
# Checks of tb_cur_raw: a closed month's completeness, and (the last step of a tenant x month
# run) that raw, catalog, curated and central hold one version.
MONTH_COMPLETE = "month_complete"
LAYERS_AGREE = "layers_agree"
# Checks of the curated tables and the cross-org table.
RECONCILES_WITH_RAW = "reconciles_with_raw"
ONE_CURRENCY = "one_currency"
TAG_PARTS_ADD_UP = "tag_parts_add_up"
TAG_KEYS_FOUND = "tag_keys_found"
SUMMARY_ADDS_UP = "summary_adds_up"
FOCUS_ADDS_UP = "focus_adds_up"
WORKLOADS_ADD_UP = "workloads_add_up"
MATCHES_TENANT_TOTALS = "matches_tenant_totals"
# Checks of the anomalies and the forecast: they warn (budgets past 100 % are errors).
NEW_COST_ANOMALIES = "new_cost_anomalies"
BUDGET_ACTUAL = "budget_actual"
BUDGET_FORECAST = "budget_forecast"

FRESHNESS_PREFIX = "freshness_sla_"

# Jobs that sensors and schedules launch (defs/refresh/jobs.py selects their assets).
TENANT_MONTH_JOB = "tenant_month_refresh"
CROSS_ORG_JOB = "cross_org_refresh"

# Every check of a tenant x month partition, in the order the data flows (test_definitions
# holds this list to the checks the definitions really have).
TENANT_MONTH_CHECKS = (
    *(
        dg.AssetCheckKey(RAW_CUR, name)
        for name in (
            RAW_SCHEMA,
            RAW_PARTITION_VALIDITY,
            RAW_ROW_COUNT,
            RAW_UNIQUE_LINE_ITEMS,
            RAW_FINITE_COSTS,
        )
    ),
    dg.AssetCheckKey(TB_CUR_RAW, MONTH_COMPLETE),
    dg.AssetCheckKey(COST_DAILY, RECONCILES_WITH_RAW),
    dg.AssetCheckKey(COST_DAILY, ONE_CURRENCY),
    dg.AssetCheckKey(COST_BY_TAG, TAG_PARTS_ADD_UP),
    dg.AssetCheckKey(COST_BY_TAG, TAG_KEYS_FOUND),
    dg.AssetCheckKey(COST_MONTHLY_SUMMARY, SUMMARY_ADDS_UP),
    dg.AssetCheckKey(FOCUS_COST, FOCUS_ADDS_UP),
    dg.AssetCheckKey(COST_ANOMALIES, NEW_COST_ANOMALIES),
    dg.AssetCheckKey(COST_FORECAST, BUDGET_ACTUAL),
    dg.AssetCheckKey(COST_FORECAST, BUDGET_FORECAST),
    dg.AssetCheckKey(COST_BY_WORKLOAD, WORKLOADS_ADD_UP),
    dg.AssetCheckKey(TB_CUR_RAW, LAYERS_AGREE),  # across the layers, so last
)


def table_name(key: dg.AssetKey) -> str:
    """The catalog table an asset materializes: its key's name (`cost_daily`)."""
    return key.path[-1]


def freshness_check_name(org_id: str) -> str:
    """The per-tenant freshness SLA check on tb_cur_raw."""
    return f"{FRESHNESS_PREFIX}{org_id}"


def freshness_check_keys(settings: Settings) -> list[dg.AssetCheckKey]:
    """The freshness SLA checks of every active tenant."""
    return [
        dg.AssetCheckKey(TB_CUR_RAW, freshness_check_name(t.org_id))
        for t in settings.tenants.active()
    ]
