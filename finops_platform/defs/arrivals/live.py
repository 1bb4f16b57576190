"""Is a delivery already the live version of its month? Asked by the arrival sensor.

The live version of a tenant x month is the assembly id tb_cur_raw's catalog partition records
(`parameters["assembly_id"]`, written by the tb_cur_raw asset from the rows' `x_assembly_id`).
A delivery's own id is in its manifest: `assemblyId` (legacy CUR) or `executionId` (CUR 2.0),
read by `parse_manifest`. Both are read lazily and at most once per tick: the manifest only for
deliveries the sensor's cursor has not seen, the catalog once for the tenant.
"""

from __future__ import annotations

import datetime as dt

from finops_platform.lake import RAW_TABLE, month_of
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.cur.arrivals import Arrival
from finops_platform.lib.cur.manifest import parse_manifest
from finops_platform.lib.store import ObjectStore
from finops_platform.settings import TenantConfig


class LiveAssemblies:
    """One tick's view of a tenant's live assemblies and of its deliveries' assembly ids."""

    def __init__(self, store: ObjectStore, catalog: Catalog, tenant: TenantConfig) -> None:
        self._store = store
        self._catalog = catalog
        self._tenant = tenant
        self._live: dict[dt.date, str] | None = None
        self._delivered: dict[str, str | None] = {}

    def live_assembly(self, month: dt.date) -> str | None:
        """The assembly id registered as live for `month`, None if the month is not loaded."""
        if self._live is None:
            self._live = {}
            tenant = self._tenant
            for partition in self._catalog.list_partitions(tenant.database, RAW_TABLE):
                values = partition.values
                if values.get("org") != tenant.org_id:
                    continue
                assembly = partition.parameters.get("assembly_id")
                if assembly:
                    self._live[month_of(values)] = assembly
        return self._live.get(month)

    def assembly_id(self, arrival: Arrival) -> str | None:
        """The delivery's assembly id from its manifest; None when the manifest cannot be read
        (the run then reports why, rather than the sensor)."""
        uri = arrival.manifest.uri
        if uri not in self._delivered:
            try:
                manifest = parse_manifest(self._store.read_bytes(uri), source=uri)
            except Exception:  # unreadable or invalid (or S3 refusing): not known to be live
                self._delivered[uri] = None
            else:
                self._delivered[uri] = manifest.assembly_id
        return self._delivered[uri]

    def is_live(self, arrival: Arrival) -> bool:
        live = self.live_assembly(arrival.month)
        return live is not None and self.assembly_id(arrival) == live
