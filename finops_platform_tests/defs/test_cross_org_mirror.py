"""The central cost_daily mirror follows the tenants' cost_daily: partitions and new columns."""

import datetime as dt
from pathlib import Path

from finops_platform.defs.common.mirror import SOURCE, mirror_tenant_partition
from finops_platform.defs.common.tables import partition_values
from finops_platform.lib.catalog import CatalogPartition, CatalogTable
from finops_platform.lib.catalog.local import LocalCatalog
from finops_platform.settings import TenantConfig
from finops_platform_tests.conftest import tenant_entry

LAKE = "s3://lake/custos/"
CENTRAL = "central_db"


def tenant_cost_daily(catalog: LocalCatalog, tenant: TenantConfig, columns: dict) -> None:
    catalog.ensure_database(tenant.database)
    catalog.upsert_table(
        CatalogTable(
            database=tenant.database,
            name=SOURCE,
            location=f"{LAKE}curated/cost_daily/org={tenant.org_id}/",
            columns=columns,
            partition_keys={"org": "string", "year": "int", "month": "int"},
        )
    )


def test_the_mirror_takes_the_columns_a_newer_cost_daily_added(tmp_path: Path) -> None:
    catalog = LocalCatalog(root=str(tmp_path / "catalog"))
    catalog.ensure_database(CENTRAL)
    tenant = TenantConfig.model_validate(tenant_entry("acme", tmp_path / "source"))
    for month, columns in (
        (dt.date(2026, 8, 1), {"usage_date": "date", "unblended_cost": "decimal(38,10)"}),
        (
            dt.date(2026, 9, 1),
            {"usage_date": "date", "currency": "string", "unblended_cost": "decimal(38,10)"},
        ),
    ):
        tenant_cost_daily(catalog, tenant, columns)
        values = partition_values(month, tenant.org_id)
        catalog.upsert_partition(
            tenant.database, SOURCE, CatalogPartition(values=values, location=f"{LAKE}{month}/")
        )
        assert mirror_tenant_partition(catalog, CENTRAL, LAKE, tenant, month)

    central = catalog.get_table(CENTRAL, SOURCE)
    assert central is not None
    assert central.columns == {
        "usage_date": "date",
        "unblended_cost": "decimal(38,10)",
        "currency": "string",
    }
    august, september = sorted(
        catalog.list_partitions(CENTRAL, SOURCE), key=lambda p: int(p.values["month"])
    )
    assert "currency" not in august.columns  # an older partition reads it as NULL
    assert "currency" in september.columns
