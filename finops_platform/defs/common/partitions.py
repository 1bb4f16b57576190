"""Tenant x month partitions.

Dagster sorts multi-partition dimensions by name, so a key reads `2026-11-01|tenant_alpha`;
build keys with `partition_key` below, never by hand.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from finops_platform.settings import Settings

TENANT = "tenant"
MONTH = "month"
# Dagster's run tags: the partition of a one-partition run, and the ends of a run over a range
# of partitions (what a single-run backfill launches).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def month_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    # end_offset=1: the current, month-to-date billing period is a partition too.
    return dg.MonthlyPartitionsDefinition(
        start_date=settings.first_month.strftime("%Y-%m-%d"), end_offset=1
    )


def tenant_month_partitions(settings: Settings) -> dg.MultiPartitionsDefinition:
    tenants = dg.StaticPartitionsDefinition([t.org_id for t in settings.tenants.tenants])
    return dg.MultiPartitionsDefinition({TENANT: tenants, MONTH: month_partitions(settings)})


def partition_key(org_id: str, month: dt.date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({TENANT: org_id, MONTH: month.strftime("%Y-%m-%d")})


def tenant_and_month(key: str | dg.MultiPartitionKey) -> tuple[str, dt.date]:
    """(org_id, first day of month) of a tenant x month partition key."""
    if not isinstance(key, dg.MultiPartitionKey):
        month_part, tenant_part = key.split("|")
        key = dg.MultiPartitionKey({MONTH: month_part, TENANT: tenant_part})
    dimensions = key.keys_by_dimension
    return dimensions[TENANT], dt.date.fromisoformat(dimensions[MONTH])
