"""The catalog seam: databases, tables and partitions (local JSON files, or AWS Glue)."""

from finops_platform.lib.catalog.base import (
    Catalog,
    CatalogEntryError,
    CatalogPartition,
    CatalogTable,
)
from finops_platform.lib.catalog.local import LocalCatalog

__all__ = ["Catalog", "CatalogEntryError", "CatalogPartition", "CatalogTable", "LocalCatalog"]
