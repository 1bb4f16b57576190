"""The `finops` command: validate config, list tenants, make demo data, run, and query."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import sys
import zlib
from decimal import Decimal
from functools import cached_property

import click
import duckdb
import sqlglot
from tabulate import tabulate

from finops_platform.core import ConfigError
from finops_platform.dashboard.cli import dashboard
from finops_platform.lib.cur.delivery import DeliveryError, delivered_months
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.freshness import Freshness, tenant_freshness
from finops_platform.lib.store import ObjectStore
from finops_platform.resources import build_resources, settings_from
from finops_platform.settings import Settings, TenantConfig


def _parse_month(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[dt.date]:
    months = []
    for value in values:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise click.BadParameter(f"{value!r} is not a month; use YYYY-MM, e.g. 2026-11")
        months.append(dt.date(int(value[:4]), int(value[5:]), 1))
    return months


def _current_month() -> dt.date:
    return dt.datetime.now(dt.UTC).date().replace(day=1)


class Context:
    """Settings loaded lazily, so `--help` works even with a broken config."""

    def __init__(self, config: str | None, env: str | None) -> None:
        self.config = config
        self.env = env
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = settings_from(self.config, self.env)
        return self._settings

    def tenants(self, selected: tuple[str, ...]) -> list[TenantConfig]:
        if selected:
            return [self.settings.tenants.get(org) for org in selected]
        return self.settings.tenants.active()

    @cached_property
    def resources(self) -> dict:
        return build_resources(self.settings)

    def store(self) -> ObjectStore:
        return self.resources["store"]

    def engine(self) -> QueryEngine:
        return self.resources["engine"]

    def freshness(
        self, tenants: list[TenantConfig], at: dt.datetime | None = None
    ) -> list[Freshness]:
        """Each tenant's freshness SLA verdict, now or as of `at` (UTC)."""
        now = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        catalog = self.resources["catalog"]
        return [tenant_freshness(self.engine(), catalog, tenant, now) for tenant in tenants]


class FinOpsGroup(click.Group):
    """Turns the errors a user can fix into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (ConfigError, DeliveryError, duckdb.Error, sqlglot.errors.SqlglotError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=FinOpsGroup)
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="tenants_config.json (default: $CONFIG_PATH, then config/tenants_config.json)",
)
@click.option(
    "--env", "env", metavar="ENV", help="dev, staging or prod (default: $ENVIRONMENT or dev)"
)
@click.pass_context
def main(ctx: click.Context, config: str | None, env: str | None) -> None:
    """Multi-tenant AWS CUR pipeline on Dagster. Local state lives in $FINOPS_HOME (.finops)."""
    ctx.obj = Context(config, env)


main.add_command(dashboard)


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("validate")
@click.pass_obj
def config_validate(obj: Context) -> None:
    """Check tenants_config.json and the environment settings; exit 2 on a problem."""
    settings = obj.settings
    build_resources(settings)  # the embedded store checks its folders when it is built
    env = settings.environment
    click.echo(
        f"{settings.config_path}: {len(settings.tenants.tenants)} tenant(s) valid; "
        f"environment {env.name}: engine={env.engine}, store={env.object_store}, "
        f"catalog={env.catalog}, lake={env.lake_root}, region={env.region}"
    )


@main.group()
def tenant() -> None:
    """Tenants (business units)."""


@tenant.command("list")
@click.pass_obj
def tenant_list(obj: Context) -> None:
    """List the configured tenants."""
    rows = [
        [
            t.org_id,
            "yes" if t.active else "no",
            t.cur_format,
            f"{t.sla_hours:g}",
            t.database,
            t.workgroup,
            t.source_path,
        ]
        for t in obj.settings.tenants.tenants
    ]
    headers = ["tenant", "active", "format", "sla_hours", "database", "workgroup", "source_path"]
    click.echo(tabulate(rows, headers=headers))


@tenant.command("init")
@click.argument("org_id", metavar="ORG")
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.pass_obj
def tenant_init(obj: Context, org_id: str, dry_run: bool) -> None:
    """Provision ORG's lake prefix, catalog database, query workgroup (and crawler).

    Idempotent: what exists is left as it is. In AWS this talks to S3, Glue and Athena with the
    standard AWS environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL).
    """
    from finops_platform.provision import init_tenant

    steps = init_tenant(obj.settings, obj.settings.tenants.get(org_id), dry_run)
    verb = (
        {"create": "would create", "update": "would update"}
        if dry_run
        else {"create": "created", "update": "updated"}
    )
    rows = [[s.resource, s.name, verb.get(s.action, s.action)] for s in steps]
    click.echo(tabulate(rows, headers=["resource", "name", "plan" if dry_run else "done"]))


@main.command("demo-data")
@click.option("--tenant", "tenants", multiple=True, metavar="ORG", help="default: all active")
@click.option("--months", default=2, show_default=True, type=click.IntRange(1, 120))
@click.option("--rows-per-month", default=20_000, show_default=True, type=click.IntRange(1))
@click.option(
    "--format", "fmt", type=click.Choice(["legacy", "cur2"]), help="default: the tenant's"
)
@click.option("--seed", default=7, show_default=True, type=int)
@click.pass_obj
def demo_data(
    obj: Context,
    tenants: tuple[str, ...],
    months: int,
    rows_per_month: int,
    fmt: str | None,
    seed: int,
) -> None:
    """Write sample CUR deliveries (with manifests) into each tenant's source path.

    The last MONTHS billing months up to the current one, which is month-to-date.
    """
    from finops_platform.lib.cur.generator import generate_month

    store = obj.store()
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    current = _current_month()
    rows = []
    for t in obj.tenants(tenants):
        tenant_format = fmt or ("legacy" if t.cur_format == "auto" else t.cur_format)
        for back in range(months - 1, -1, -1):
            month = _shift_month(current, -back)
            with store.writable_copy(t.source_path) as folder:
                delivery = generate_month(
                    folder,
                    month=month,
                    rows=rows_per_month,
                    fmt=tenant_format,
                    seed=seed + zlib.crc32(t.org_id.encode()),
                    name=f"{t.org_id.replace('_', '-')}-cur",
                    until=now if month == current else None,
                    progress=sys.stderr.isatty() and rows_per_month >= 1_000_000,
                )
            rows.append(
                [
                    t.org_id,
                    f"{month:%Y-%m}",
                    tenant_format,
                    delivery.rows,
                    f"{delivery.unblended_total:.2f}",
                    delivery.assembly_id,
                ]
            )
    headers = ["tenant", "month", "format", "rows", "unblended", "assembly_id"]
    click.echo(tabulate(rows, headers=headers))


def _shift_month(month: dt.date, delta: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


@main.command("run")
@click.option("--tenant", "tenants", multiple=True, metavar="ORG", help="default: all active")
@click.option(
    "--month",
    "months",
    multiple=True,
    metavar="YYYY-MM",
    callback=_parse_month,
    help="default: every month delivered in the tenant's source path",
)
@click.pass_obj
def run(obj: Context, tenants: tuple[str, ...], months: list[dt.date]) -> None:
    """Materialize every asset and check of the tenant x month partitions through Dagster."""
    from finops_platform.summary import print_summary, run_all

    settings = obj.settings
    plan = []
    for t in obj.tenants(tenants):
        wanted = months or delivered_months(obj.store(), t)
        if not wanted:
            click.echo(
                f"warning: tenant {t.org_id!r}: no CUR delivery found in {t.source_path}", err=True
            )
        plan += [(t.org_id, month) for month in wanted]
    last = _current_month()
    outside = []
    for org, month in plan:
        first = settings.tenant_first_month(settings.tenants.get(org))
        if not first <= month <= last:
            outside.append(f"{org} {month:%Y-%m} (its months: {first:%Y-%m}..{last:%Y-%m})")
    if outside:
        raise ConfigError(
            f"month(s) outside the tenant's months: {', '.join(outside)}; "
            "set the tenant's first_billing_month to load earlier months"
        )
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    reports = run_all(settings, plan)
    print_summary(settings, reports)
    involved = [settings.tenants.get(org) for org in dict.fromkeys(org for org, _ in plan)]
    click.echo(
        "\nFreshness SLA now (judged every 5 minutes by the schedule and by `finops sla`; "
        "not part of this run's status):\n" + freshness_table(obj.freshness(involved), "table")
    )
    if not all(report.ok for report in reports):
        sys.exit(1)


@main.command("query")
@click.option("--tenant", "org_id", metavar="ORG", help="query this tenant's catalog database")
@click.option(
    "--central", is_flag=True, help="query the central database (cross-org tables) instead"
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.argument("sql")
@click.pass_obj
def query(obj: Context, org_id: str | None, central: bool, fmt: str, sql: str) -> None:
    """Run Athena-dialect SQL in one catalog database (and only there)."""
    if central == bool(org_id):
        raise click.UsageError("give exactly one of --tenant ORG or --central")
    settings = obj.settings
    database = (
        settings.environment.central_database if central else settings.tenants.get(org_id).database
    )
    with obj.engine().session(database) as session:
        table = session.query(sql)
    click.echo(format_rows(table.column_names, table.to_pylist(), fmt), nl=False)


@main.command("sla")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option(
    "--at",
    "at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]),
    help="judge as of this UTC time instead of now",
)
@click.pass_obj
def sla(obj: Context, fmt: str, at: dt.datetime | None) -> None:
    """Every active tenant's freshness: last data point, hours_lag, SLA and status.

    Exits 1 when any tenant breaches its SLA.
    """
    from finops_platform.lib.freshness import SLA_BREACH

    results = obj.freshness(obj.settings.tenants.active(), at)
    click.echo(freshness_table(results, fmt), nl=False)
    if any(r.status == SLA_BREACH for r in results):
        sys.exit(1)


def freshness_table(results: list[Freshness], fmt: str) -> str:
    rows = [
        {
            "tenant": r.org_id,
            "month": f"{r.month:%Y-%m}",
            "last_usage_start": r.last_usage_start,
            "hours_lag": r.hours_lag,
            "sla_hours": r.sla_hours,
            "status": r.status,
        }
        for r in results
    ]
    columns = ["tenant", "month", "last_usage_start", "hours_lag", "sla_hours", "status"]
    return format_rows(columns, rows, fmt)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def format_rows(columns: list[str], rows: list[dict], fmt: str) -> str:
    """Rows as an aligned table, CSV, or a JSON array of objects."""
    if fmt == "json":
        return (
            json.dumps([{k: _json_value(v) for k, v in row.items()} for row in rows], default=str)
            + "\n"
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
        return out.getvalue()
    return tabulate([[row[c] for c in columns] for row in rows], headers=columns) + "\n"
