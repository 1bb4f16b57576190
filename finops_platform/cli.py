"""The `finops` command: validate config, list tenants, make demo data, run, query, export, gc.

Every problem reaches the user as one line on stderr, `error: ...` naming what is wrong and
what to do, with exit code 2 (Ctrl-C: `interrupted: ...`, exit code 130). `--debug` (or
FINOPS_DEBUG=1) shows the traceback of an unexpected error instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import zlib
from functools import cached_property
from pathlib import Path
from types import TracebackType

import click
import duckdb
import sqlglot
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from finops_platform.core import ConfigError
from finops_platform.dashboard.cli import dashboard
from finops_platform.lib.catalog import CatalogEntryError
from finops_platform.lib.cur.delivery import DeliveryError, delivered_months
from finops_platform.lib.engine import QueryEngine
from finops_platform.lib.engine.athena import AthenaQueryError
from finops_platform.lib.freshness import Freshness, tenant_freshness
from finops_platform.lib.sql import ReadOnlyError, read_only_statement
from finops_platform.lib.store import ObjectStore
from finops_platform.months import current_month, parse_month, shift_month
from finops_platform.output import FORMATS, format_dicts, format_rows
from finops_platform.resources import build_resources, settings_from
from finops_platform.settings import CUR_FORMATS, Settings, TenantConfig

EXIT_USAGE = 2  # a user mistake or a backend failure: one line says what to do
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it: 128 + 2
DEBUG_ENV = "FINOPS_DEBUG"

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; csv or json (decimals as exact strings) for other tools",
)


class UserError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""


def _parse_month(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[dt.date]:
    months = []
    for value in values:
        try:
            months.append(parse_month(value))
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a month; use YYYY-MM, e.g. 2026-11"
            ) from None
    return months


def _parse_one_month(ctx: click.Context, param: click.Parameter, value: str) -> dt.date:
    (month,) = _parse_month(ctx, param, (value,))
    return month


class Context:
    """Settings loaded lazily, so `--help` works even with a broken config."""

    def __init__(self, config: str | None, env: str | None) -> None:
        self.config = config
        self.env = env
        self._settings: Settings | None = None
        self.unreadable: list[str] = []  # tenants whose freshness could not be read

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
        results = []
        for tenant in tenants:
            try:
                results.append(tenant_freshness(self.engine(), catalog, tenant, now))
            except USER_ERRORS as exc:  # e.g. a broken catalog entry: it hides no other tenant
                click.echo(_one_line(f"tenant {tenant.org_id!r}: {exc}"), err=True)
                self.unreadable.append(tenant.org_id)
        return results


# Errors whose message already says what is wrong; they print as they are.
USER_ERRORS = (
    UserError,
    CatalogEntryError,
    ConfigError,
    DeliveryError,
    duckdb.Error,
    sqlglot.errors.SqlglotError,
    AthenaQueryError,
)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(_one_line(message), err=True)
    sys.exit(code)


def _aws_call(tb: TracebackType | None) -> str:
    """'glue GetTable', from the botocore client call on the traceback, else ''."""
    call = ""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "_make_api_call":
            client = frame.f_locals.get("self")
            service = getattr(getattr(client, "meta", None), "service_model", None)
            name = getattr(service, "service_name", "")
            call = f"{name} {frame.f_locals.get('operation_name', '')}".strip()
        tb = tb.tb_next
    return call


def aws_message(exc: BotoCoreError | ClientError) -> str:
    """One line for a boto error: which service and operation, what happened, what to do."""
    call = _aws_call(exc.__traceback__)
    if not call and isinstance(exc, ClientError):
        call = exc.operation_name
    aws = f"AWS {call}".strip()
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            f"error: {aws}: {exc}; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run where an instance role gives credentials"
        )
    if isinstance(exc, NoRegionError):
        return f"error: {aws}: {exc}; set AWS_REGION (or the environment's region)"
    if isinstance(exc, BotoConnectionError):
        return (
            f"error: cannot reach {aws}: {exc}; check AWS_ENDPOINT_URL, AWS_REGION and the network"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return (
            f"error: {aws} refused: {error.get('Code', '?')}: {error.get('Message', '')}; "
            "check the credentials (AWS_PROFILE), their permissions and AWS_REGION"
        )
    return (
        f"error: {aws} failed: {type(exc).__name__}: {exc}; check AWS_ENDPOINT_URL, "
        "AWS_REGION and the credentials"
    )


def _interrupted_message(exc: KeyboardInterrupt, command: str) -> str:
    from finops_platform.runner import RunInterrupted

    if isinstance(exc, RunInterrupted):
        span = f"{exc.months[0]:%Y-%m}" + (
            f"..{exc.months[-1]:%Y-%m}" if len(exc.months) > 1 else ""
        )
        return (
            f"interrupted: Ctrl-C stopped `finops run` during {exc.org_id} {span} (Dagster run "
            f"{exc.run_id[:8]} is recorded as failed); months loaded before it are kept; run "
            "the same command again to finish"
        )
    return f"interrupted: Ctrl-C stopped `{command}`; what it finished before is kept"


class FinOpsGroup(click.Group):
    """Turns every error into one line on stderr: exit code 2, or 130 for Ctrl-C."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: object,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            _fail(_usage_message(exc))
            raise  # unreachable: _fail exits

    def invoke(self, ctx: click.Context) -> object:
        debug = ctx.params.get("debug") or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            _fail(_usage_message(exc))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt as exc:
            command = f"finops {ctx.invoked_subcommand or ''}".strip()
            _fail(_interrupted_message(exc, command), EXIT_INTERRUPTED)
        except ReadOnlyError as exc:
            _fail(str(exc))
        except USER_ERRORS as exc:
            _fail(f"error: {exc}")
        except (BotoCoreError, ClientError) as exc:
            if debug:
                raise
            _fail(aws_message(exc))
        except Exception as exc:
            if debug:
                raise
            _fail(
                f"error: unexpected {type(exc).__name__}: {exc} (a bug? run again with --debug "
                f"or {DEBUG_ENV}=1 for the traceback)"
            )
        return None


def _usage_message(exc: click.UsageError) -> str:
    path = exc.ctx.command_path if exc.ctx else "finops"
    return f"error: {exc.format_message()} (see `{path} --help`)"


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
@click.option(
    "--debug",
    is_flag=True,
    help=f"show the traceback of an unexpected error (also: {DEBUG_ENV}=1)",
)
@click.pass_context
def main(ctx: click.Context, config: str | None, env: str | None, debug: bool) -> None:
    """Multi-tenant AWS CUR pipeline on Dagster. Local state lives in $FINOPS_HOME (.finops).

    Errors print as one line on stderr with exit code 2; Ctrl-C stops a command with exit
    code 130.
    """
    # sqlglot warns on stderr when it keeps a statement it does not model (SHOW ...) as a
    # command; the allow-list has judged it already, so the warning is noise, not an error.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
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
@format_option
@click.pass_obj
def tenant_list(obj: Context, fmt: str) -> None:
    """List the configured tenants."""
    rows = [
        [
            t.org_id,
            t.active,
            t.cur_format,
            t.sla_hours,
            t.database,
            t.workgroup,
            t.source_path,
        ]
        for t in obj.settings.tenants.tenants
    ]
    headers = ["tenant", "active", "format", "sla_hours", "database", "workgroup", "source_path"]
    click.echo(format_rows(headers, rows, fmt), nl=False)


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
    click.echo(format_rows(["resource", "name", "plan" if dry_run else "done"], rows, "table"))


def _rows_per_month(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    from finops_platform.sample import MIN_ROWS

    if value < MIN_ROWS:
        raise click.BadParameter(
            f"{value} is too few: a demo month needs at least {MIN_ROWS} rows to hold every "
            "line item type"
        )
    return value


def _split_platforms(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, ...]:
    """The platforms of `--split-cost-allocation`: none, or of "eks,ecs" (alone: eks)."""
    from finops_platform.sample.split import split_platforms

    try:
        return split_platforms(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _shape_span(current: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The months a shaped demo spans; a new service appears in the last closed one (the
    current month's days to come are not delivered yet)."""
    return shift_month(current, 1 - months), shift_month(current, -1 if months > 1 else 0)


@main.command("demo-data")
@click.option("--tenant", "tenants", multiple=True, metavar="ORG", help="default: all active")
@click.option("--months", default=2, show_default=True, type=click.IntRange(1, 120))
@click.option(
    "--rows-per-month",
    default=20_000,
    show_default=True,
    type=int,
    callback=_rows_per_month,
    help="at least 500",
)
@click.option(
    "--cur-format",
    "cur_format",
    type=click.Choice(CUR_FORMATS),
    help="CUR format of the files (default: the tenant's)",
)
@click.option(
    "--csv-compression",
    type=click.Choice(["GZIP", "ZIP"]),
    default="GZIP",
    show_default=True,
    help="how a legacy CSV report's parts are compressed",
)
@click.option(
    "--split-cost-allocation",
    is_flag=False,
    flag_value="eks",
    default=None,
    metavar="[eks,ecs]",
    callback=_split_platforms,
    help="add split cost allocation data (cost_by_workload): EKS pod rows, ECS task rows on EC2, "
    "or both ('eks,ecs'); alone: eks",
)
@format_option
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--anomalies",
    is_flag=True,
    help="shape the months with a trend, weekly seasonality and injected cost anomalies, and "
    "write their ground truth beside the export (<source>/<report>/ground-truth/YYYY-MM.json)",
)
@click.pass_obj
def demo_data(
    obj: Context,
    tenants: tuple[str, ...],
    months: int,
    rows_per_month: int,
    cur_format: str | None,
    csv_compression: str,
    split_cost_allocation: tuple[str, ...],
    fmt: str,
    seed: int,
    anomalies: bool,
) -> None:
    """Write sample CUR deliveries (with manifests) into each tenant's source path.

    The last MONTHS billing months up to the current one, which is month-to-date. Names each
    tenant and month on stderr as it writes it.
    """
    from finops_platform.sample import generate_month

    store = obj.store()
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    current = current_month()
    rows = []
    for t in obj.tenants(tenants):
        tenant_format = cur_format or ("legacy" if t.cur_format == "auto" else t.cur_format)
        for back in range(months - 1, -1, -1):
            month = shift_month(current, -back)
            click.echo(
                f"writing {t.org_id} {month:%Y-%m}: {rows_per_month:,} rows, {tenant_format} "
                f"CUR, into {t.source_path} ...",
                err=True,
            )
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
                    shape_span=_shape_span(current, months) if anomalies else None,
                    csv_compression=csv_compression,
                    split_cost_allocation=split_cost_allocation,
                )
            rows.append(
                [
                    t.org_id,
                    f"{month:%Y-%m}",
                    tenant_format,
                    delivery.rows,
                    delivery.unblended_total,
                    delivery.assembly_id,
                    *([len(delivery.anomalies or [])] if anomalies else []),
                ]
            )
    headers = ["tenant", "month", "format", "rows", "unblended", "assembly_id"]
    headers += ["injected_anomalies"] if anomalies else []
    click.echo(format_rows(headers, rows, fmt), nl=False)


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
@format_option
@click.pass_obj
def run(obj: Context, tenants: tuple[str, ...], months: list[dt.date], fmt: str) -> None:
    """Materialize every asset and check of the tenant x month partitions through Dagster.

    Progress goes to stderr, one line per step (rewritten in place on a terminal); the
    summary goes to stdout. Exits 1 when a partition failed (the summary says why; the
    Dagster UI has the stack traces).
    """
    from finops_platform.output import RunProgress, print_summary
    from finops_platform.runner import run_all

    settings = obj.settings
    plan = []
    undelivered = []
    for t in obj.tenants(tenants):
        wanted = months or delivered_months(obj.store(), t)
        if not wanted:
            undelivered.append(f"{t.org_id} ({t.source_path})")
        plan += [(t.org_id, month) for month in wanted]
    if not plan:
        raise UserError(
            f"nothing to run: no CUR delivery found for {', '.join(undelivered)}; run "
            "`finops demo-data` to write sample deliveries there, or deliver the CUR to the "
            "tenant's source_path"
        )
    for where in undelivered:
        click.echo(f"warning: no CUR delivery found for {where}; skipping it", err=True)
    last = current_month()
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
    progress = RunProgress(len(plan))
    try:
        reports = run_all(settings, plan, on_run=progress.run, on_step=progress.step)
    finally:
        progress.close()
    print_summary(settings, reports, fmt)
    if fmt == "table":
        involved = [settings.tenants.get(org) for org in dict.fromkeys(org for org, _ in plan)]
        click.echo(
            "\nFreshness SLA now (judged every 5 minutes by the schedule and by `finops sla`; "
            "not part of this run's status):\n" + freshness_table(obj.freshness(involved), "table")
        )
    failed = [f"{r.org_id} {r.month:%Y-%m}" for r in reports if not r.ok]
    if failed:
        click.echo(
            f"error: {len(failed)} of {len(reports)} partition(s) failed: {', '.join(failed)}; "
            "the summary says why and the Dagster UI has the stack traces",
            err=True,
        )
        sys.exit(1)


def _database(obj: Context, org_id: str | None, central: bool) -> tuple[str, str]:
    """(catalog database, who it belongs to) of --tenant ORG or --central."""
    if central == bool(org_id):
        raise click.UsageError("give exactly one of --tenant ORG or --central")
    settings = obj.settings
    if central:
        return settings.environment.central_database, "the central database"
    return settings.tenants.get(org_id).database, f"tenant {org_id}"


def _no_table(obj: Context, database: str, who: str, name: str) -> UserError:
    """The error for a table `database` does not have, worded from what the catalog has."""
    tables = sorted(t.name for t in obj.resources["catalog"].list_tables(database))
    if tables:
        return UserError(f"{who} has no table {name}; its tables: {', '.join(tables)}")
    if who.startswith("tenant"):
        return UserError(
            f"{who} has no table {name} yet (no data loaded); run "
            "`finops demo-data && finops run` first"
        )
    return UserError(
        f"{who} has no table {name} yet; run `finops run` first (it writes the cross-org "
        "tables after the tenants' months)"
    )


def _one_statement(sql: str) -> sqlglot.exp.Expression:
    """The one statement of a user's SQL, refused (ReadOnlyError) unless it only reads."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except sqlglot.errors.ParseError:
        read_only_statement(sql)  # ATTACH, EXPORT, ... do not parse: refused by their kind
        raise
    if not statements:
        raise UserError(
            'the SQL is empty; give one statement, e.g. "SELECT count(*) FROM tb_cur_raw"'
        )
    if len(statements) > 1:
        raise UserError(
            f"the SQL has {len(statements)} statements; `finops query` runs one at a time "
            "(run each on its own)"
        )
    return read_only_statement(sql)


def _tables_named(statement: sqlglot.exp.Expression) -> list[str]:
    """Unqualified tables the statement reads (not its CTEs): those must be in the catalog.
    Qualified names and table functions are the engine's to refuse."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(sqlglot.exp.CTE)}
    names = []
    for table in statement.find_all(sqlglot.exp.Table):
        if table.args.get("db") or table.args.get("catalog"):
            continue
        if not isinstance(table.this, sqlglot.exp.Identifier):
            continue
        name = table.name.lower()
        if name not in ctes and name not in names:
            names.append(name)
    return names


@main.command("query")
@click.option("--tenant", "org_id", metavar="ORG", help="query this tenant's catalog database")
@click.option(
    "--central", is_flag=True, help="query the central database (cross-org tables) instead"
)
@format_option
@click.argument("sql")
@click.pass_obj
def query(obj: Context, org_id: str | None, central: bool, fmt: str, sql: str) -> None:
    """Run one Athena-dialect SQL statement in one catalog database (and only there)."""
    from finops_platform.output import arrow_rows

    database, who = _database(obj, org_id, central)
    statement = _one_statement(sql)
    catalog = obj.resources["catalog"]
    for name in _tables_named(statement):
        if catalog.get_table(database, name) is None:
            raise _no_table(obj, database, who, name)
    with obj.engine().session(database) as session:
        table = session.user_query(sql)
    names = table.column_names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UserError(
            f"the result has more than one column named {', '.join(duplicated)}; give each "
            "column its own name with AS"
        )
    click.echo(format_rows(names, arrow_rows(table), fmt), nl=False)


@main.command("export")
@click.argument("table_name", metavar="TABLE")
@click.option("--tenant", "org_id", metavar="ORG", help="a table of this tenant's database")
@click.option("--central", is_flag=True, help="a table of the central database instead")
@click.option(
    "--month",
    "month",
    required=True,
    metavar="YYYY-MM",
    callback=_parse_one_month,
    help="the partition (year and month) to write",
)
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="FILE.parquet or FILE.csv (the format follows the suffix)",
)
@click.pass_obj
def export(
    obj: Context,
    table_name: str,
    org_id: str | None,
    central: bool,
    month: dt.date,
    output: Path,
) -> None:
    """Write one month of a catalog table (tb_cur_raw, cost_daily, ...) to Parquet or CSV.

    Reads through the engine as `finops query` does, so a view (focus_cost) is computed for
    the month as it is written. In CSV, maps, lists and structs are JSON text and decimals keep
    every digit. A FOCUS dataset (focus_cost) is written as FOCUS tools read it: FOCUS and x_
    columns only, timestamps in UTC.
    """
    from finops_platform.export import ExportError, export_month, output_format

    database, who = _database(obj, org_id, central)
    try:
        output_format(output)  # before the catalog is asked: a usage error
    except ExportError as exc:
        raise click.BadParameter(str(exc), param_hint="'--output'") from exc
    definition = obj.resources["catalog"].get_table(database, table_name.lower())
    if definition is None:
        raise _no_table(obj, database, who, table_name)
    try:
        rows = export_month(obj.engine(), database, definition, month, output)
    except ExportError as exc:
        raise UserError(str(exc)) from exc
    except OSError as exc:  # the file system refused it: a full disk, no permission
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc
    if rows == 0:
        raise UserError(
            f"{who} table {definition.name} has no rows for {month:%Y-%m}; load the month with "
            f"`finops run --month {month:%Y-%m}` first"
        )
    click.echo(f"wrote {rows:,} rows of {database}.{definition.name} {month:%Y-%m} to {output}")


@main.command("sla")
@format_option
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
    if obj.unreadable:
        sys.exit(EXIT_USAGE)
    if any(r.status == SLA_BREACH for r in results):
        sys.exit(1)


@main.command("gc")
@click.option("--dry-run", is_flag=True, help="list what would be removed, remove nothing")
@format_option
@click.pass_obj
def gc(obj: Context, dry_run: bool, fmt: str) -> None:
    """Remove what killed runs left in the lake: staging copies and unregistered versions.

    Covers every active tenant's raw and curated month partitions and the central tables,
    registered or not, each partition under its lock (a run of it is waited for), and on AWS
    the catalog tables and file lists of killed Athena ingests. The version the catalog
    registers is never removed, nor a complete version of an unregistered month.
    The total line goes to stdout with --format table, else to stderr.
    """
    from finops_platform.defs.common.tables import Reclaimed, reclaim_database

    settings = obj.settings
    catalog, store = obj.resources["catalog"], obj.store()
    tenants = settings.tenants.active()
    databases = [t.database for t in tenants]
    databases.append(settings.environment.central_database)
    found = [
        r
        for database in databases
        for r in reclaim_database(catalog, store, database, dry_run=dry_run)
    ]
    ingest = obj.resources["cur_ingest"]
    lake_root = settings.environment.lake_root
    found += [
        Reclaimed(t.database, table, month, leftover)
        for t in tenants
        for month, table, leftover in ingest.leftovers(t, lake_root, dry_run=dry_run)
    ]
    action = "would remove" if dry_run else "removed"
    rows = [
        [
            r.database,
            r.table,
            f"{r.month:%Y-%m}",
            r.leftover.kind,
            r.leftover.uri,
            r.leftover.bytes,
            action,
        ]
        for r in found
    ]
    columns = ["database", "table", "month", "kind", "location", "bytes", "action"]
    total = sum(r.leftover.bytes for r in found)
    line = f"total: {action} {len(found)} leftover(s), {total:,} bytes"
    if fmt == "table":
        if rows:
            click.echo(format_rows(columns, rows, fmt), nl=False)
        click.echo(line)
    else:
        click.echo(format_rows(columns, rows, fmt), nl=False)
        click.echo(line, err=True)


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
    return format_dicts(columns, rows, fmt)
