"""The Dagster resources of one environment, built from settings.

Assets ask these resources for storage, catalog and queries and never look at which backend is
behind them; the environment settings decide.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

import dagster as dg

from finops_platform.core import ConfigError
from finops_platform.lib.alerts.book import AlertBook
from finops_platform.lib.alerts.slack import SlackNotifier
from finops_platform.lib.aws import read_parameter
from finops_platform.lib.catalog import LocalCatalog
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.cur.athena_ingest import AthenaIngest
from finops_platform.lib.cur.ingest import WorkerIngest
from finops_platform.lib.engine import DuckDBEngine
from finops_platform.lib.engine.athena import AthenaEngine
from finops_platform.lib.secrets import resolve_secret
from finops_platform.lib.store import LocalObjectStore
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.settings import Settings, TenantConfig, load_settings


def settings_from(
    config_path: str | Path | None = None,
    environment: str | None = None,
    finops_home: str | Path | None = None,
) -> Settings:
    """The settings, loaded with the AWS parameter reader, so CONFIG_PATH may be `ssm:/name`."""
    return load_settings(config_path, environment, finops_home, read_parameter=read_parameter)


class FinOpsSettings(dg.ConfigurableResource):
    """Tenants and environment, loaded once per process from the same place as the CLI."""

    config_path: str
    environment: str
    finops_home: str

    @cached_property
    def settings(self) -> Settings:
        return settings_from(self.config_path, self.environment, self.finops_home)

    def tenant(self, org_id: str) -> TenantConfig:
        return self.settings.tenants.get(org_id)

    @property
    def lake_root(self) -> str:
        return self.settings.environment.lake_root


class Clock(dg.ConfigurableResource):
    """Now, in UTC (naive, like CUR timestamps). Tests pin it with `fixed_now`."""

    fixed_now: str | None = None

    def now(self) -> dt.datetime:
        if self.fixed_now:
            return dt.datetime.fromisoformat(self.fixed_now).replace(tzinfo=None)
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class AlertSettings(dg.ConfigurableResource):
    """Where alerts go and how often an ongoing problem is repeated."""

    slack_webhook: str  # a secret reference: env:NAME or ssm:/name
    region: str
    realert_minutes: float
    dagster_ui_url: str
    state_path: str

    def book(self) -> AlertBook:
        return AlertBook(Path(self.state_path), dt.timedelta(minutes=self.realert_minutes))

    def notifier(self) -> SlackNotifier:
        return SlackNotifier(resolve_secret(self.slack_webhook, self.region))


def local_buckets_root(settings: Settings) -> Path:
    return settings.finops_home / "buckets"


BACKENDS = {
    "embedded": ("duckdb", "local", "local"),
    "aws": ("athena", "s3", "glue"),
}


def _backend(settings: Settings) -> str:
    env = settings.environment
    chosen = (env.engine, env.object_store, env.catalog)
    for name, parts in BACKENDS.items():
        if chosen == parts:
            return name
    raise ConfigError(
        f"environment {env.name!r}: engine={env.engine}, object_store={env.object_store}, "
        f"catalog={env.catalog} do not go together; use duckdb/local/local (embedded) or "
        "athena/s3/glue (AWS)"
    )


def _embedded(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    env = settings.environment
    store = LocalObjectStore(root=str(local_buckets_root(settings)))
    check_sources_outside_lake(settings, store)
    catalog = LocalCatalog(root=str(settings.finops_home / "catalog"))
    engine = DuckDBEngine(
        store=store,
        catalog=catalog,
        memory_limit=env.duckdb_memory_limit,
        threads=env.duckdb_threads,
    )
    ingest = WorkerIngest(
        store=store, memory_limit=env.duckdb_memory_limit, threads=env.duckdb_threads
    )
    return {"store": store, "catalog": catalog, "engine": engine, "cur_ingest": ingest}


def check_sources_outside_lake(settings: Settings, store: LocalObjectStore) -> None:
    """The embedded mode's check on folders: a plain local source_path can name the lake's local
    folder past the settings' check on URIs. The raw asset copies whatever lies under a source
    path, so a source there would ingest other tenants' raw and curated data as its own. The
    store maps URIs to folders, so the check sees the very folders it reads and writes."""
    env = settings.environment
    lake = store.local_path(env.lake_root)
    for tenant in settings.tenants.tenants:
        source = store.local_path(tenant.source_path)
        if source.is_relative_to(lake) or lake.is_relative_to(source):
            raise ConfigError(
                f"{settings.config_path}: tenant {tenant.org_id!r}: source_path "
                f"{tenant.source_path!r} is the folder {source}, which overlaps the local lake "
                f"folder {lake} (lake_root {env.lake_root!r}); a tenant's source may not lie "
                "in, or contain, the lake"
            )
    # Tenants compared by the folders they really read: a relative and an absolute path, a
    # symlink, or an s3:// URI and its mirror folder can name one folder past the URI check.
    folders = [(t, store.local_path(t.source_path)) for t in settings.tenants.tenants]
    for i, (tenant, folder) in enumerate(folders):
        for other, other_folder in folders[i + 1 :]:
            if folder.is_relative_to(other_folder) or other_folder.is_relative_to(folder):
                raise ConfigError(
                    f"{settings.config_path}: tenant {other.org_id!r}: source_path "
                    f"{other.source_path!r} is the folder {other_folder}, which overlaps the "
                    f"source_path {tenant.source_path!r} of tenant {tenant.org_id!r} (folder "
                    f"{folder}); tenants may not share a source folder"
                )


def _aws(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    env = settings.environment
    store = S3ObjectStore(region=env.region)
    workgroups = {t.database: t.workgroup for t in settings.tenants.tenants}
    engine = AthenaEngine(
        region=env.region,
        store=store,
        workgroups={**workgroups, env.central_database: env.central_workgroup},
        results_root=env.athena_results_root,
        timeout_seconds=env.athena_query_timeout_seconds,
        price_per_tb_usd=env.athena_price_per_tb_usd,
    )
    catalog = GlueCatalog(region=env.region)
    # The delivery stays in S3: Athena normalizes and validates it (lib/cur/athena_ingest.py);
    # only a ZIP CSV report, which Athena cannot read, or a delivery whose normalization is
    # longer than Athena takes (thousands of flat tag columns) goes through this machine.
    # A compatible CUR 2.0 month is copied inside S3 by AthenaIngest, never by this machine.
    worker = WorkerIngest(
        store=store,
        memory_limit=env.duckdb_memory_limit,
        threads=env.duckdb_threads,
        pass_through=False,
    )
    ingest = AthenaIngest(engine=engine, catalog=catalog, worker=worker)
    return {"store": store, "catalog": catalog, "engine": engine, "cur_ingest": ingest}


def build_resources(
    settings: Settings, now: dt.datetime | None = None
) -> dict[str, dg.ConfigurableResource]:
    """The resources of the settings' environment; `now` pins the clock (tests)."""
    backend = _aws if _backend(settings) == "aws" else _embedded
    return {
        "finops": FinOpsSettings(
            config_path=str(settings.config_path),
            environment=settings.environment.name,
            finops_home=str(settings.finops_home),
        ),
        "clock": Clock(fixed_now=now.isoformat() if now else None),
        "alerts": AlertSettings(
            slack_webhook=settings.environment.slack_webhook,
            region=settings.environment.region,
            realert_minutes=settings.environment.slack_realert_minutes,
            dagster_ui_url=settings.environment.dagster_ui_url,
            state_path=str(settings.finops_home / "alerts" / "alert_book.json"),
        ),
        **backend(settings),
    }
