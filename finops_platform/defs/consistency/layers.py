"""Do a tenant x month's layers hold one version? The store's raw month, tb_cur_raw's catalog
entry, each curated partition and the central mirror of cost_daily.

Each layer is replaced by its own asset, so a run that dies or hits a full disk between two of
them leaves them disagreeing (raw at the new delivery, the catalog and cost_daily at the old
one) while every query still answers. Nothing else notices: the arrival sensor has requested
that delivery already. So each layer is compared with the one below it:
- raw: the store's current version of the month (its location and files) against the version
  tb_cur_raw registers (its location and published files);
- curated: what each curated partition records it was built from (`built_from`: the
  fingerprint of each upstream partition at build time) against the upstream partitions
  registered now;
- central: the central cost_daily's entry for the tenant's month against the tenant's own.
A curated entry written before `built_from` was recorded is not compared (nothing to compare).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from finops_platform.defs.common.keys import COST_DAILY, RAW_CUR, table_name
from finops_platform.defs.common.tables import built_from, fingerprint, unpublished_files
from finops_platform.lake import (
    MONTH_LEVELS,
    RAW_TABLE,
    month_of,
    month_of_prefix,
    raw_month,
    raw_table_location,
)
from finops_platform.lib.catalog import Catalog, CatalogPartition
from finops_platform.lib.store import ObjectStore
from finops_platform.settings import TenantConfig

# Each curated table's asset -> the assets it is built from (curated.tables.curated_lineage,
# passed in by definitions.py: domains do not import each other).
Lineage = dict[dg.AssetKey, tuple[dg.AssetKey, ...]]


@dataclass(frozen=True)
class MonthLayers:
    """The verdict on one tenant x month: what disagrees, in the order the data flows."""

    org_id: str
    month: dt.date
    problems: tuple[str, ...]
    # The lowest assets whose rebuild repairs it (raw_cur: the whole month).
    rebuild: frozenset[dg.AssetKey] = frozenset()

    @property
    def agree(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        where = f"{self.org_id} {self.month:%Y-%m}"
        if self.agree:
            return f"{where}: raw, catalog, curated and central hold one version"
        return f"{where}: layers disagree: " + "; ".join(self.problems)


class TenantLayers:
    """One look at a tenant's layers: each catalog table is listed once, then compared month by
    month. `central` is the central cost_daily's partitions (every tenant's: listed once by a
    caller looking at several tenants). A broken catalog entry raises CatalogEntryError naming
    it."""

    def __init__(
        self,
        store: ObjectStore,
        catalog: Catalog,
        tenant: TenantConfig,
        lake_root: str,
        central: list[CatalogPartition],
        lineage: Lineage,
    ) -> None:
        self._store = store
        self._lineage = lineage
        self._tenant = tenant
        self._lake_root = lake_root
        database = tenant.database
        tables = [RAW_TABLE, *map(table_name, lineage)]
        self._entries = {
            (table, month_of(p.values)): p
            for table in tables
            for p in catalog.list_partitions(database, table)
            if p.values.get("org") == tenant.org_id
        }
        self._central = {
            month_of(p.values): p for p in central if p.values.get("org") == tenant.org_id
        }

    def months(self) -> list[dt.date]:
        """Months the store holds anything of (a version, a staging copy) or tb_cur_raw
        registers."""
        registered = {month for table, month in self._entries if table == RAW_TABLE}
        table = raw_table_location(self._lake_root, self._tenant.org_id)
        prefixes = self._store.stored_prefixes(table, MONTH_LEVELS)
        stored = {m for m in map(month_of_prefix, prefixes) if m is not None}
        return sorted(registered | stored)

    def month(self, month: dt.date) -> MonthLayers:
        raw = self._entries.get((RAW_TABLE, month))
        problems = {RAW_CUR: self._raw_problems(month, raw)}
        if raw is not None:
            problems.update(self._curated_problems(month))
        return MonthLayers(
            self._tenant.org_id,
            month,
            tuple(text for texts in problems.values() for text in texts),
            frozenset(asset for asset, texts in problems.items() if texts),
        )

    def _raw_problems(self, month: dt.date, raw: CatalogPartition | None) -> list[str]:
        stored = self._store.current_version(raw_month(self._lake_root, self._tenant.org_id, month))
        if raw is None:
            if stored is None:
                return []
            return [f"the store holds a raw month ({stored}) that tb_cur_raw does not register"]
        if stored is None:
            return [f"tb_cur_raw registers {raw.location}, which the store no longer holds"]
        if stored != raw.location:
            return [f"the store's raw month is {stored} but tb_cur_raw registers {raw.location}"]
        differ = unpublished_files(self._store, raw)
        if not differ:
            return []
        return [
            f"the raw month's files are not those tb_cur_raw registered ({len(differ)} added, "
            f"rewritten or missing: {', '.join(differ[:3])})"
        ]

    def _curated_problems(self, month: dt.date) -> dict[dg.AssetKey, list[str]]:
        """Each curated asset's problems; the central mirror's are cost_daily's (its build
        updates the mirror)."""
        problems: dict[dg.AssetKey, list[str]] = {asset: [] for asset in self._lineage}
        for asset, deps in self._lineage.items():
            table = table_name(asset)
            entry = self._entries.get((table, month))
            if entry is None:
                problems[asset].append(
                    f"{table} has no partition built from the registered raw month"
                )
                continue
            recorded = built_from(entry)
            if recorded is None:
                continue  # written before built_from was recorded
            for dep in map(table_name, deps):
                upstream = self._entries.get((dep, month))
                now = fingerprint(upstream) if upstream else "none"
                if recorded.get(dep) != now:
                    problems[asset].append(
                        f"{table} was built from {dep} version {recorded.get(dep, 'none')}, "
                        f"but {dep} is now version {now}"
                    )
        mirror = self._central.get(month)
        own = self._entries.get((table_name(COST_DAILY), month))
        if mirror is not None and own is not None and fingerprint(mirror) != fingerprint(own):
            problems.setdefault(COST_DAILY, []).append(
                f"the central cost_daily mirrors version {fingerprint(mirror)} of the tenant's "
                f"cost_daily, which is now version {fingerprint(own)}"
            )
        return problems
