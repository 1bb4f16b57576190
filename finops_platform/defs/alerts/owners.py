"""Whom an alert concerns: the owners (`owners` in the tenants config) of its tenant(s).

Alerts name them, so the people responsible for a tenant see at a glance that a failed check or
run is theirs. A tenant that is no longer configured (or a config that cannot be read) has no
owners here: an alert is never lost for want of its owners.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from finops_platform.core import ConfigError
from finops_platform.defs.common.partitions import tenant_and_month
from finops_platform.resources import FinOpsSettings

OwnersOf = Callable[[str], Sequence[str]]


def tenant_owners(finops: FinOpsSettings) -> OwnersOf:
    """org_id -> that tenant's owners, [] for a tenant not (or no longer) configured."""

    def owners_of(org_id: str) -> Sequence[str]:
        try:
            return finops.tenant(org_id).owners
        except (ConfigError, ValueError, OSError):
            return []

    return owners_of


def configured_tenants(finops: FinOpsSettings) -> list[str]:
    try:
        return [t.org_id for t in finops.settings.tenants.tenants]
    except (ConfigError, ValueError, OSError):
        return []


def partition_tenants(partition: str | None, tenants: Sequence[str]) -> list[str]:
    """The tenants of a run's partition key, or of its range `first...last` (a range of a
    multi-partitioned asset is a rectangle: every tenant from the first to the last, in the
    order of the tenant dimension, which is the config's)."""
    if not partition:
        return []
    first, _, last = partition.partition("...")
    if "|" not in first:
        return []  # a month of the cross-org asset: no one tenant's
    first_org = tenant_and_month(first)[0]
    last_org = tenant_and_month(last)[0] if last else first_org
    if first_org in tenants and last_org in tenants:
        start, end = sorted((tenants.index(first_org), tenants.index(last_org)))
        return list(tenants[start : end + 1])
    return sorted({first_org, last_org})


def owners_of_tenants(owners_of: OwnersOf, org_ids: Sequence[str]) -> list[str]:
    """Every owner of these tenants, once each, in config order."""
    return list(dict.fromkeys(owner for org in org_ids for owner in owners_of(org)))


def owners_note(owners: Sequence[str]) -> str:
    """' owners: a@x.com, team:finops' for a message, '' without owners."""
    return f" owners: {', '.join(owners)}" if owners else ""
