"""Find the CUR manifests under a tenant's source path without listing every data file.

A manifest is written after its data files, so it is the commit marker of a delivery: a month
with data but no manifest yet is a partial delivery and is not reported. The walk goes one
level at a time and never descends into data folders (`data/`, `year=...`), so its cost grows
with the number of deliveries, not with the number of Parquet files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from finops_platform.lib.cur.manifest import match_manifest_key
from finops_platform.lib.store import ObjectStore, StoredObject
from finops_platform.settings import TenantConfig

# Manifests sit at <name>/<yyyymmdd-yyyymmdd>/ (legacy) or <name>/metadata/BILLING_PERIOD=.../.
MAX_DEPTH = 3
DATA_FOLDER = re.compile(r"^(data|year=\d+|month=\d+)$")
LEGACY_RANGE = re.compile(r"^\d{8}-\d{8}$")


@dataclass(frozen=True)
class Arrival:
    """A delivery's manifest: which month, in which format, and its ETag (its version)."""

    manifest: StoredObject
    format: str
    month: dt.date


def _descend(prefix: str) -> bool:
    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    return not DATA_FOLDER.match(name)


def find_arrivals(store: ObjectStore, tenant: TenantConfig) -> list[Arrival]:
    root = tenant.source_path.rstrip("/") + "/"
    arrivals = []
    pending = [(root, 0)]
    while pending:
        prefix, depth = pending.pop()
        objects, prefixes = store.list_level(prefix)
        for obj in objects:
            found = match_manifest_key(obj.uri[len(root) :])
            if found:
                fmt, _, month = found
                arrivals.append(Arrival(manifest=obj, format=fmt, month=month))
        # A legacy range folder holds the manifest; below it are per-assembly copies only.
        leaf = LEGACY_RANGE.match(prefix.rstrip("/").rsplit("/", 1)[-1])
        if depth < MAX_DEPTH and not leaf:
            pending += [(p, depth + 1) for p in prefixes if _descend(p)]
    return sorted(arrivals, key=lambda a: a.manifest.uri)
