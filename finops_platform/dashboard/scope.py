"""Which tenants the dashboard may show, and the only databases it may open.

The scope comes from the process environment set by `finops dashboard` (never from the browser:
no widget, query parameter or session value can widen it). Started with `--tenant ORG`, the app
is locked to that tenant: it opens only that tenant's catalog database, whose engine session
cannot read any other tenant's files. Without it, it is the central view: the central database
(cross-org table) plus any tenant's database.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

from finops_platform.settings import Settings, TenantConfig

TENANT_ENV = "FINOPS_DASHBOARD_TENANT"
AT_ENV = "FINOPS_DASHBOARD_AT"


class ScopeError(PermissionError):
    """The dashboard was asked for data outside its scope."""


@dataclass(frozen=True)
class Scope:
    settings: Settings
    locked_tenant: str | None = None

    def __post_init__(self) -> None:
        if self.locked_tenant is not None:
            self.settings.tenants.get(self.locked_tenant)  # ConfigError for an unknown tenant

    @property
    def central(self) -> bool:
        return self.locked_tenant is None

    def tenants(self) -> list[TenantConfig]:
        """The tenants this app may show, in config order."""
        if self.locked_tenant is not None:
            return [self.settings.tenants.get(self.locked_tenant)]
        return list(self.settings.tenants.tenants)

    def tenant(self, org_id: str) -> TenantConfig:
        if self.locked_tenant is not None and org_id != self.locked_tenant:
            raise ScopeError(
                f"this dashboard is scoped to tenant {self.locked_tenant!r}; "
                f"tenant {org_id!r} is out of scope"
            )
        return self.settings.tenants.get(org_id)

    def narrowed(self, org_id: str | None) -> Scope:
        """This scope, or only `org_id` within it (never wider)."""
        if org_id is None:
            return self
        return Scope(self.settings, self.tenant(org_id).org_id)

    def database(self, org_id: str | None) -> str:
        """A tenant's catalog database, or the central database for `None` (central view only)."""
        if org_id is not None:
            return self.tenant(org_id).database
        if self.locked_tenant is not None:
            raise ScopeError(
                f"this dashboard is scoped to tenant {self.locked_tenant!r}; "
                "the central database is out of scope"
            )
        return self.settings.environment.central_database


def scope_from_environment(settings: Settings, environ: Mapping[str, str] = os.environ) -> Scope:
    return Scope(settings, environ.get(TENANT_ENV) or None)


def now_from_environment(environ: Mapping[str, str] = os.environ) -> dt.datetime:
    """Now in naive UTC, or the time in FINOPS_DASHBOARD_AT (as `finops sla --at` judges)."""
    if at := environ.get(AT_ENV):
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC)
        return moment.replace(tzinfo=None)
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
