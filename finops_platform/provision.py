"""`finops tenant init`: provision a tenant's storage, catalog and query resources, idempotently.

The original onboarding (`init_tenant.py`): the tenant's lake prefix, its catalog database, its
Athena workgroup with enforced configuration and a bytes-scanned cutoff, and, where the tenant
asks for it, a Glue crawler; plus the central database and workgroup the cross-org tables use.
Each step looks before it acts, so running it twice changes nothing; a dry run only looks.
"""

from dataclasses import dataclass

from finops_platform.core import ConfigError
from finops_platform.lake import crawler_name, raw_table_location
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.resources import build_resources
from finops_platform.settings import Settings, TenantConfig


@dataclass(frozen=True)
class Step:
    resource: str
    name: str
    action: str  # create, update, exists, or a note


def init_tenant(settings: Settings, tenant: TenantConfig, dry_run: bool) -> list[Step]:
    resources = build_resources(settings)
    store, catalog, engine = resources["store"], resources["catalog"], resources["engine"]
    env = settings.environment
    lake = raw_table_location(env.lake_root, tenant.org_id)
    cutoff = env.athena_bytes_scanned_cutoff
    steps = [
        Step("lake prefix", lake, store.ensure_prefix(lake, dry_run)),
        Step(
            "catalog database", tenant.database, catalog.ensure_database(tenant.database, dry_run)
        ),
        Step(
            "query workgroup",
            tenant.workgroup,
            engine.ensure_workgroup(tenant.workgroup, cutoff, dry_run),
        ),
        Step(
            "catalog database",
            env.central_database,
            catalog.ensure_database(env.central_database, dry_run),
        ),
        Step(
            "query workgroup",
            env.central_workgroup,
            engine.ensure_workgroup(env.central_workgroup, cutoff, dry_run),
        ),
    ]
    if tenant.glue_crawler:
        steps.append(_crawler_step(settings, tenant, catalog, lake, dry_run))
    return steps


def _crawler_step(
    settings: Settings, tenant: TenantConfig, catalog: object, lake: str, dry_run: bool
) -> Step:
    role = settings.environment.glue_crawler_role_arn
    name = crawler_name(tenant.org_id)
    if not isinstance(catalog, GlueCatalog):
        return Step("Glue crawler", name, "not needed (local catalog)")
    if not role:
        raise ConfigError(
            f"tenant {tenant.org_id!r}: glue_crawler is true but the environment "
            f"{settings.environment.name!r} sets no glue_crawler_role_arn"
        )
    action = catalog.ensure_crawler(name, role, tenant.database, lake, dry_run)
    return Step("Glue crawler", name, action)
