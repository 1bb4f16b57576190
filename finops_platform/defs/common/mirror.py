"""The central `cost_daily`: a mirror of every tenant's curated cost_daily partitions.

The central database holds a `cost_daily` table whose partitions point at the tenants' own
cost_daily versions (as a central Glue table would over the curated prefix), so the central
engine session reads curated data only, never a tenant's raw data. On S3 a tenant's rebuild
writes a new version and retires the old one, so the mirror must follow the tenant's partition
whenever it is replaced, not only when the cross-org table is built.
"""

import datetime as dt

from finops_platform.defs.common.keys import COST_DAILY, table_name
from finops_platform.defs.common.tables import registered_partition
from finops_platform.lake import curated_location, partition_values
from finops_platform.lib.catalog import Catalog
from finops_platform.settings import TenantConfig

SOURCE = table_name(COST_DAILY)


def mirror_tenant_partition(
    catalog: Catalog, central: str, lake_root: str, tenant: TenantConfig, month: dt.date
) -> bool:
    """Register `tenant`'s cost_daily partition of `month` in the central cost_daily (creating
    that table if needed); False when the tenant has no such partition."""
    table = catalog.get_table(tenant.database, SOURCE)
    values = partition_values(month, tenant.org_id)
    partition = registered_partition(catalog, tenant.database, SOURCE, values)
    if table is None or partition is None:
        return False
    mirror = catalog.get_table(central, SOURCE) or table.model_copy(
        update={"database": central, "location": curated_location(lake_root, SOURCE), "columns": {}}
    )
    # Columns a newer cost_daily added (older partitions keep theirs, read as NULL).
    added = {name: kind for name, kind in table.columns.items() if name not in mirror.columns}
    if added:
        catalog.upsert_table(mirror.model_copy(update={"columns": {**mirror.columns, **added}}))
    catalog.upsert_partition(central, SOURCE, partition)
    return True


def follow_tenant_partition(
    catalog: Catalog, central: str, lake_root: str, tenant: TenantConfig, month: dt.date
) -> None:
    """After `tenant`'s cost_daily partition of `month` was replaced: point the mirror at the new
    version too, if the mirror holds that partition (before the old version is retired)."""
    if registered_partition(catalog, central, SOURCE, partition_values(month, tenant.org_id)):
        mirror_tenant_partition(catalog, central, lake_root, tenant, month)
