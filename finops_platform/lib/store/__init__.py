"""The object store seam: where CUR deliveries and the lake live (a local folder, or S3)."""

from finops_platform.lib.store.base import Leftover, ObjectStore, StoredObject
from finops_platform.lib.store.local import LocalObjectStore

__all__ = ["Leftover", "LocalObjectStore", "ObjectStore", "StoredObject"]
