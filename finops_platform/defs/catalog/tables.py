"""The catalog's view of the raw layer: table `tb_cur_raw` and its tenant x month partitions."""

from __future__ import annotations

import datetime as dt

from finops_platform.lib.catalog import Catalog, CatalogPartition, CatalogTable
from finops_platform.lib.catalog.types import glue_type
from finops_platform.lib.cur.schema import CANONICAL_SCHEMA, PARTITION_COLUMNS
from finops_platform.settings import TenantConfig

RAW_TABLE = "tb_cur_raw"


def raw_table(tenant: TenantConfig, lake_root: str) -> CatalogTable:
    return CatalogTable(
        database=tenant.database,
        name=RAW_TABLE,
        location=f"{lake_root.rstrip('/')}/custos/cur/org={tenant.org_id}/",
        columns={field.name: glue_type(field.type) for field in CANONICAL_SCHEMA},
        partition_keys={name: glue_type(kind) for name, kind in PARTITION_COLUMNS.items()},
    )


def partition_values(tenant: TenantConfig, month: dt.date) -> dict[str, str]:
    return {"org": tenant.org_id, "year": str(month.year), "month": str(month.month)}


def raw_table_partition(
    catalog: Catalog, tenant: TenantConfig, month: dt.date
) -> CatalogPartition | None:
    """The registered partition of `tenant`'s `month` in tb_cur_raw, if any."""
    wanted = partition_values(tenant, month)
    for partition in catalog.list_partitions(tenant.database, RAW_TABLE):
        if partition.values == wanted:
            return partition
    return None
