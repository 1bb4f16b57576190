"""Tenants and environment settings: pydantic models, loading, and the naming convention.

`config/tenants_config.json` keeps the original format (a JSON list of tenants). The environment
(`ENVIRONMENT` = dev / staging / prod) picks `config/environments/<env>.json`, which chooses the
engine, object store, catalog, lake root and region. Nothing here touches a backend: this is the
bottom layer, and a config kept in SSM is read by the reader the caller passes in.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    model_validator,
)

from finops_platform.core import SSM_PREFIX, ConfigError
from finops_platform.lake import CENTRAL, database_name, workgroup_name
from finops_platform.months import parse_month

# At most 49 characters: the tenant's crawler role, custos_<org>_crawler, must fit IAM's 64
# (terraform/modules/tenant holds Terraform to the same pattern).
ORG_ID_PATTERN = r"^[a-z][a-z0-9_]{1,48}$"
DATABASE_PATTERN = r"^[a-z][a-z0-9_]{0,254}$"
WORKGROUP_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"

# How a tenant's CUR is delivered: legacy CUR as Parquet (Athena integration) or as CSV (gzip
# or ZIP), CUR 2.0 (Data Exports) as Parquet or gzip CSV, or Data Exports' FOCUS 1.0 export
# (with AWS columns) as Parquet or gzip CSV. `auto` in a tenant's config detects it per month.
CurFormat = Literal["legacy", "legacy-csv", "cur2", "cur2-csv", "focus", "focus-csv"]
CUR_FORMATS: tuple[CurFormat, ...] = get_args(CurFormat)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = Path("config") / "tenants_config.json"


def _parse_month(value: object) -> object:
    """Accept `YYYY-MM` (or a date) and return the first day of that month."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, str):
        return parse_month(value)
    return value


Month = Annotated[dt.date, BeforeValidator(_parse_month)]


def _plain_prefix(value: str) -> str:
    """A source path spelled one way only: an empty, `.` or `..` segment would let two tenants'
    different-looking paths name one folder, past the overlap check."""
    # `s3://bucket/key/` or a local path (its leading `/` is not an empty segment).
    body = value.removeprefix("s3://") if value.startswith("s3://") else value.removeprefix("/")
    segments = body.removesuffix("/").split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError(
            f"{value!r} has an empty, '.' or '..' segment; write the prefix without them"
        )
    # On S3 a prefix is a folder: `s3://bucket/alpha` must not list `s3://bucket/alphabet/...`.
    return value.rstrip("/") + "/" if value.startswith("s3://") else value


SourcePath = Annotated[str, Field(min_length=1), AfterValidator(_plain_prefix)]

# Dagster's rule for owners (dagster._core.definitions.utils.is_valid_owner in 1.13.27): an email
# address or `team:<name>`. Checked here so a bad owner is a config error naming the tenant, not
# a DagsterInvalidDefinitionError when the code location loads.
_OWNER_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Z|a-z]{2,7}\b")


def _dagster_owner(value: str) -> str:
    if _OWNER_EMAIL.fullmatch(value) or (value.startswith("team:") and len(value) > 5):
        return value
    raise ValueError(
        f"{value!r} is not an owner Dagster accepts: write an email address "
        "(finops@example.com) or a team name prefixed with 'team:' (team:finops)"
    )


Owner = Annotated[str, AfterValidator(_dagster_owner)]


class Partitioning(BaseModel):
    """The original design's partitioning flags. The lake layout `org=/year=/month=` is fixed."""

    model_config = ConfigDict(extra="forbid")

    year: bool = True
    month: bool = True
    org: bool = True

    @model_validator(mode="after")
    def _all_enabled(self) -> Partitioning:
        disabled = [name for name, on in self.model_dump().items() if not on]
        if disabled:
            raise ValueError(
                f"partitioning by {', '.join(disabled)} cannot be turned off: the lake layout "
                "custos/cur/org=/year=/month= is fixed"
            )
        return self


# The CPU units a Fargate task may have -> the memory sizes (MiB) it may have with them.
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


class RunResources(BaseModel):
    """The CPU and memory of a tenant's runs when they run as ECS tasks (deploy/prod): a large
    tenant gets more without every run paying for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: int  # ECS CPU units: 1024 = one vCPU
    memory: int  # MiB

    @model_validator(mode="after")
    def _a_fargate_size(self) -> RunResources:
        if self.cpu not in FARGATE_MEMORY:
            raise ValueError(f"cpu {self.cpu} is not a Fargate size: {sorted(FARGATE_MEMORY)}")
        sizes = FARGATE_MEMORY[self.cpu]
        if self.memory not in sizes:
            step = sizes[-1] - sizes[-2]
            raise ValueError(
                f"memory {self.memory} MiB does not fit cpu {self.cpu}: Fargate takes "
                f"{sizes[0]} to {sizes[-1]} MiB in steps of {step}"
            )
        return self


class AnomalySettings(BaseModel):
    """How sure and how large a cost change must be before `cost_anomalies` reports it.

    A day is anomalous when its cost lies outside the expected band (the baseline's robust
    spread times `sensitivity`) AND its impact reaches both minimums: a 3 % wobble on a large
    bill, or a doubling of a few cents, is no one's emergency.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_impact: Annotated[float, Field(ge=0)] = 50.0  # in the tenant's currency, per day
    min_impact_pct: Annotated[float, Field(ge=0)] = 15.0
    # Band half-width in robust standard deviations (1.4826 x MAD): lower finds more.
    sensitivity: Annotated[float, Field(gt=0, le=20)] = 3.0


BudgetScope = Literal["tenant", "service", "account", "tag"]


class Budget(BaseModel):
    """A monthly budget: `budget_actual` judges the month's cost so far against it,
    `budget_forecast` the month-end forecast (`cost_forecast`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=128)]
    scope: BudgetScope = "tenant"
    # The service (product code), account id or `<tag key>=<tag value>` the budget covers;
    # none for a tenant-wide budget.
    key: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    amount: Annotated[float, Field(gt=0)]  # per month
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    # Percentages of `amount`: the first one warns, one past 100 is an error.
    actual_thresholds: list[Annotated[float, Field(gt=0, le=1000)]] = [80.0, 100.0]
    forecast_thresholds: list[Annotated[float, Field(gt=0, le=1000)]] = [80.0, 100.0]

    @model_validator(mode="after")
    def _key_fits_scope(self) -> Budget:
        if self.scope == "tenant" and self.key is not None:
            raise ValueError(f"budget {self.name!r}: a tenant-wide budget takes no key")
        if self.scope != "tenant" and self.key is None:
            raise ValueError(f"budget {self.name!r}: scope {self.scope!r} needs a key")
        if self.scope == "tag" and "=" not in (self.key or ""):
            raise ValueError(
                f"budget {self.name!r}: a tag budget's key is '<tag key>=<tag value>', "
                f"got {self.key!r}"
            )
        for field in ("actual_thresholds", "forecast_thresholds"):
            values = getattr(self, field)
            if values != sorted(values) or len(set(values)) != len(values):
                raise ValueError(f"budget {self.name!r}: {field} must be increasing")
        return self


class TenantConfig(BaseModel):
    """One business unit. Field names are the original tenants_config.json keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    org_id: Annotated[str, Field(pattern=ORG_ID_PATTERN)]
    active: bool = True
    source_path: SourcePath
    glue_db: Annotated[str | None, Field(pattern=DATABASE_PATTERN)] = None
    athena_workgroup: Annotated[str | None, Field(pattern=WORKGROUP_PATTERN)] = None
    sla_hours: Annotated[float, Field(gt=0, le=24 * 31)] = 24
    partitioning: Partitioning = Partitioning()
    cur_format: CurFormat | Literal["auto"] = "auto"
    first_billing_month: Month | None = None
    cost_allocation_tags: list[Annotated[str, Field(min_length=1, max_length=128)]] = []
    owners: list[Owner] = []
    glue_crawler: bool = False
    run_resources: RunResources | None = None  # default: the run launcher's
    anomaly: AnomalySettings = AnomalySettings()
    budgets: list[Budget] = []

    @model_validator(mode="after")
    def _budget_names_unique(self) -> TenantConfig:
        names = [b.name for b in self.budgets]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"budget names must be unique, repeated: {', '.join(dupes)}")
        tags = {t.lower() for t in self.cost_allocation_tags}
        for budget in self.budgets:
            if budget.scope == "tag" and budget.key.split("=", 1)[0].lower() not in tags:
                raise ValueError(
                    f"budget {budget.name!r}: tag key {budget.key.split('=', 1)[0]!r} is not "
                    "one of cost_allocation_tags"
                )
        return self

    @property
    def database(self) -> str:
        return self.glue_db or database_name(self.org_id)

    @property
    def workgroup(self) -> str:
        return self.athena_workgroup or workgroup_name(self.org_id)


def _normalized_prefix(source_path: str) -> str:
    return source_path.rstrip("/") + "/"


class TenantsConfig(RootModel[list[TenantConfig]]):
    """All tenants; no two may share an org_id, database, workgroup or source prefix."""

    @model_validator(mode="after")
    def _unique_resources(self) -> TenantsConfig:
        for what, key in (
            ("org_id", lambda t: t.org_id),
            ("database (glue_db)", lambda t: t.database),
            ("workgroup (athena_workgroup)", lambda t: t.workgroup),
        ):
            seen: dict[str, str] = {}
            for tenant in self.root:
                value = key(tenant)
                if value in seen:
                    raise ValueError(
                        f"tenant {tenant.org_id!r}: {what} {value!r} is already used by "
                        f"tenant {seen[value]!r}"
                    )
                seen[value] = tenant.org_id
        prefixes = [(_normalized_prefix(t.source_path), t.org_id) for t in self.root]
        for i, (prefix, org) in enumerate(prefixes):
            for other_prefix, other_org in prefixes[i + 1 :]:
                if prefix.startswith(other_prefix) or other_prefix.startswith(prefix):
                    raise ValueError(
                        f"tenant {other_org!r}: source_path {other_prefix!r} overlaps the "
                        f"source_path {prefix!r} of tenant {org!r}; tenants may not share a prefix"
                    )
        return self

    @property
    def tenants(self) -> list[TenantConfig]:
        return self.root

    def resolved_against(self, folder: Path) -> TenantsConfig:
        """Relative local source paths made absolute against `folder` (the config file's), so
        a config means the same folders whatever the working directory is."""
        return TenantsConfig(
            [
                t
                if t.source_path.startswith("s3://") or Path(t.source_path).is_absolute()
                else t.model_copy(update={"source_path": str(folder.resolve() / t.source_path)})
                for t in self.root
            ]
        )

    def active(self) -> list[TenantConfig]:
        return [t for t in self.root if t.active]

    def get(self, org_id: str) -> TenantConfig:
        for tenant in self.root:
            if tenant.org_id == org_id:
                return tenant
        known = ", ".join(t.org_id for t in self.root)
        raise ConfigError(f"unknown tenant {org_id!r}; configured tenants: {known}")


class EnvironmentSettings(BaseModel):
    """Where things run. `dev` is the embedded default: DuckDB over local folders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    engine: Literal["duckdb", "athena"] = "duckdb"
    object_store: Literal["local", "s3"] = "local"
    catalog: Literal["local", "glue"] = "local"
    lake_root: Annotated[str, Field(min_length=1)] = "s3://finops-lake/"
    region: str = "us-east-1"
    first_month: Month = dt.date(2024, 1, 1)
    central_database: Annotated[str, Field(pattern=DATABASE_PATTERN)] = database_name(CENTRAL)
    central_workgroup: Annotated[str, Field(pattern=WORKGROUP_PATTERN)] = workgroup_name(CENTRAL)
    duckdb_memory_limit: str = "2GB"
    duckdb_threads: Annotated[int, Field(ge=1)] = 2
    # AWS backend (staging, prod).
    athena_results_root: str = "s3://finops-athena-results/"
    athena_bytes_scanned_cutoff: Annotated[int, Field(ge=10_000_000)] = 100 * 1024**3
    athena_query_timeout_seconds: Annotated[float, Field(gt=0)] = 900
    athena_price_per_tb_usd: Annotated[float, Field(ge=0)] = 5.0
    glue_crawler_role_arn: str | None = None
    glue_crawler_timeout_seconds: Annotated[float, Field(gt=0)] = 900
    # Sensors and alerts.
    sensor_interval_seconds: Annotated[int, Field(ge=1)] = 60
    # The layer consistency sensor's: each tick lists the store and catalog (S3, Glue calls).
    consistency_interval_seconds: Annotated[int, Field(ge=1)] = 600
    slack_webhook: str = "env:FINOPS_SLACK_WEBHOOK_URL"  # a secret reference: env:NAME, ssm:/name
    slack_realert_minutes: Annotated[float, Field(gt=0)] = 240
    dagster_ui_url: str = "http://127.0.0.1:3000"


def _describe_location(loc: Iterable[int | str], raw: object) -> str:
    """`(1, 'sla_hours')` -> `tenant 'tenant_beta' (entry 2), field 'sla_hours'`."""
    parts = list(loc)
    words = []
    if parts and isinstance(parts[0], int):
        index = parts.pop(0)
        org = None
        if isinstance(raw, list) and index < len(raw) and isinstance(raw[index], dict):
            org = raw[index].get("org_id")
        words.append(f"tenant {org!r} (entry {index + 1})" if org else f"entry {index + 1}")
    if parts:
        words.append("field " + ".".join(str(p) for p in parts))
    return ", ".join(words) or "top level"


def format_validation_error(error: ValidationError, raw: object, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        where = _describe_location(item["loc"], raw)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against the README)"
        elif item["type"] == "string_pattern_mismatch":
            message = f"{item['input']!r} does not match {item['ctx']['pattern']}"
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)


def parse_tenants(text: str, source: str) -> TenantsConfig:
    """Parse tenants_config.json text; errors name the source, the tenant and the field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: expected a JSON list of tenants, got {type(raw).__name__}")
    try:
        return TenantsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, raw, source)) from exc


# Reads an SSM parameter: (name, region) -> value. The libraries own AWS; callers pass theirs.
ParameterReader = Callable[[str, str | None], str]


def load_tenants(
    path: str | Path, region: str | None = None, read_parameter: ParameterReader | None = None
) -> TenantsConfig:
    """Tenants from a file, or from SSM Parameter Store when the path is `ssm:/name`."""
    if str(path).startswith(SSM_PREFIX):
        if read_parameter is None:
            raise ConfigError(f"{path}: this command cannot read SSM parameters")
        return parse_tenants(read_parameter(str(path)[len(SSM_PREFIX) :], region), str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the tenants config: {exc.strerror}") from exc
    return parse_tenants(text, str(path))


def load_environment(name: str, config_dir: Path) -> EnvironmentSettings:
    path = config_dir / "environments" / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in (config_dir / "environments").glob("*.json"))
        raise ConfigError(f"unknown environment {name!r}: no {path} (known: {', '.join(known)})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    try:
        return EnvironmentSettings.model_validate({"name": name, **raw})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, raw, str(path))) from exc


class Settings(BaseModel):
    """Everything a run needs to know: tenants, environment, and where local state lives."""

    model_config = ConfigDict(frozen=True)

    config_path: Path | str
    tenants: TenantsConfig
    environment: EnvironmentSettings
    finops_home: Path

    @model_validator(mode="after")
    def _platform_names_reserved(self) -> Settings:
        """A tenant may not take the platform's central database or workgroup (the environment's,
        which default to lake.py's names for `central`): its tables would replace the central
        ones and its queries would run, and be billed, as the platform's."""
        env = self.environment
        reserved = {
            env.central_database: "central_database",
            env.central_workgroup: "central_workgroup",
        }
        for tenant in self.tenants.tenants:
            for field, value in (
                ("glue_db", tenant.database),
                ("athena_workgroup", tenant.workgroup),
            ):
                if value in reserved:
                    raise ValueError(
                        f"tenant {tenant.org_id!r}: {field} {value!r} is the platform's "
                        f"{reserved[value]} (environment {env.name!r}); choose another name"
                    )
        return self

    @model_validator(mode="after")
    def _sources_outside_the_lake(self) -> Settings:
        """No tenant's source_path may overlap the lake or the Athena results: the raw asset
        copies whatever lies under a source path, so one there would ingest other tenants' raw
        and curated data (or query results) as the tenant's own."""
        env = self.environment
        for tenant in self.tenants.tenants:
            source = _normalized_prefix(tenant.source_path)
            for field, location in (
                ("lake_root", env.lake_root),
                ("athena_results_root", env.athena_results_root),
            ):
                prefix = _normalized_prefix(location)
                if source.startswith(prefix) or prefix.startswith(source):
                    raise ValueError(
                        f"tenant {tenant.org_id!r}: source_path {tenant.source_path!r} overlaps "
                        f"the {field} {location!r} of environment {env.name!r}; a tenant's "
                        "source may not lie in, or contain, the platform's own data"
                    )
        return self

    @property
    def first_month(self) -> dt.date:
        """Start of the month partitions: the earliest first billing month, else the env's."""
        months = [t.first_billing_month for t in self.tenants.tenants if t.first_billing_month]
        return (
            min([*months, self.environment.first_month]) if months else self.environment.first_month
        )

    def tenant_first_month(self, tenant: TenantConfig) -> dt.date:
        """The tenant's first month: max(first_month, its first_billing_month), which is its own
        when it has one, as first_month is the earliest of all tenants'."""
        return tenant.first_billing_month or self.first_month

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.finops_home / "dagster")


def load_settings(
    config_path: str | Path | None = None,
    environment: str | None = None,
    finops_home: str | Path | None = None,
    read_parameter: ParameterReader | None = None,
) -> Settings:
    """Load settings the way the original design does: CONFIG_PATH, ENVIRONMENT, AWS_REGION.

    CONFIG_PATH is a file, or `ssm:/name` for an SSM parameter (read with `read_parameter`).
    Environments are read from `environments/` beside the tenants file, else from the
    repository's `config/`.
    """
    source = str(config_path or os.environ.get("CONFIG_PATH") or DEFAULT_CONFIG_PATH)
    path: Path | str = source
    if not source.startswith(SSM_PREFIX):
        path = Path(source)
        if not path.is_absolute() and not path.exists() and (REPO_ROOT / path).exists():
            path = REPO_ROOT / path
    env_name = environment or os.environ.get("ENVIRONMENT") or "dev"
    beside = path.parent if isinstance(path, Path) else REPO_ROOT / "config"
    env = load_environment(env_name, _environments_dir(beside))
    if region := os.environ.get("AWS_REGION"):
        env = env.model_copy(update={"region": region})
    home = Path(finops_home or os.environ.get("FINOPS_HOME") or ".finops").resolve()
    tenants = load_tenants(path, env.region, read_parameter)
    if isinstance(path, Path):
        tenants = tenants.resolved_against(path.parent)
    try:
        return Settings(config_path=path, tenants=tenants, environment=env, finops_home=home)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, None, str(path))) from exc


def _environments_dir(beside: Path) -> Path:
    """Environments live beside the tenants file, falling back to the repository's."""
    return beside if (beside / "environments").is_dir() else REPO_ROOT / "config"
