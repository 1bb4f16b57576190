"""The Terraform estate of one tenants config and environment, evaluated beside Python's settings.

`terraform/main.tf` reads the tenants file and `config/environments/<env>.json` itself; these
helpers evaluate it for a config and an environment (terraform_eval.py), and build the requests a
tenant's role must be allowed, and every other tenant's role refused, from Python's own layout
functions (finops_platform/lake.py), so the two sides are compared, never restated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from finops_platform.defs.common import keys
from finops_platform.defs.curated.tables import CURATED_TABLES
from finops_platform.lake import (
    RAW_TABLE,
    curated_location,
    partition_location,
    raw_month,
    raw_table_location,
)
from finops_platform.resources import build_resources
from finops_platform.settings import REPO_ROOT, Settings, load_settings
from finops_platform_tests.deploy.terraform_eval import Module

TERRAFORM = REPO_ROOT / "terraform"
ACCOUNT = "123456789012"
# What the data sources would read from the account (aws_partition, aws_caller_identity).
DATA = {"aws_partition.current.partition": "aws", "aws_caller_identity.current.account_id": ACCOUNT}
# The root module's required variables: the network and the Dagster image.
REQUIRED = {
    "vpc_id": "vpc-0test",
    "private_subnet_ids": ["subnet-a", "subnet-b"],
    "dagster_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/finops-platform:test",
}
MONTH = dt.date(2026, 1, 1)
VERSION_FILE = "v=20260101T000000000000-0123abcd/part-0.parquet"


@dataclass(frozen=True)
class Estate:
    settings: Settings
    root: Module
    tenants: dict[str, Module]  # org_id -> that tenant's module instance

    @property
    def platform(self) -> Module:
        return self.root.child("platform")


def evaluate_estate(
    config_path: Path, environment: str, finops_home: Path, **variables: object
) -> Estate:
    """Python's settings and Terraform's modules for the same tenants file and environment
    (and any other root variables)."""
    settings = load_settings(config_path, environment, finops_home)
    variables = {
        "environment": environment,
        "tenants_config_path": str(config_path),
        **REQUIRED,
        **variables,
    }
    root = Module(TERRAFORM, variables, DATA)
    instances = root.module_for_each("tenant")
    tenants = {org: root.child("tenant", (org, t)) for org, t in instances.items()}
    return Estate(settings, root, tenants)


def resource_value(module: Module, kind: str, name: str, *path: str) -> object:
    """An attribute of a resource, through nested blocks: ("configuration", "enforce...")."""
    block = module.block("resource", kind, name)
    for inner in path[:-1]:
        (block,) = block.children(inner)
    return module.attribute(block, path[-1])


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def object_arn(uri: str) -> str:
    return f"arn:aws:s3:::{uri.removeprefix('s3://')}"


Request = tuple[str, str, dict[str, str]]  # action, resource ARN, condition context


def listing(prefix_uri: str) -> Request:
    bucket, key = _split(prefix_uri)
    return ("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": key})


def catalog_requests(settings: Settings, database: str, tables: list[str]) -> list[Request]:
    glue = f"arn:aws:glue:{settings.environment.region}:{ACCOUNT}"
    return [("glue:GetDatabase", f"{glue}:database/{database}", {})] + [
        (action, f"{glue}:table/{database}/{table}", {})
        for table in tables
        for action in ("glue:GetTable", "glue:GetPartitions")
    ]


def results_location(settings: Settings, workgroup: str) -> str:
    """Where Python's Athena engine expects a workgroup's query results."""
    return build_resources(settings)["engine"].results_location(workgroup)


def query_requests(settings: Settings, workgroup: str) -> list[Request]:
    results = results_location(settings, workgroup)
    athena = f"arn:aws:athena:{settings.environment.region}:{ACCOUNT}:workgroup/{workgroup}"
    result = object_arn(f"{results}query-id.csv")
    return [
        ("athena:StartQueryExecution", athena, {}),
        ("athena:GetQueryResults", athena, {}),
        ("s3:PutObject", result, {}),
        ("s3:GetObject", result, {}),
        listing(results),
    ]


def tenant_reads(settings: Settings, org_id: str) -> list[Request]:
    """Everything a tenant's reader does: its raw and curated months, catalog and queries."""
    env, tenant = settings.environment, settings.tenants.get(org_id)
    curated = [curated_location(env.lake_root, t.name, org_id) for t in CURATED_TABLES]
    months = [raw_month(env.lake_root, org_id, MONTH)] + [
        partition_location(c, MONTH) for c in curated
    ]
    lake = [("s3:GetObject", object_arn(m + VERSION_FILE), {}) for m in months]
    lake += [listing(p) for p in [raw_table_location(env.lake_root, org_id), *curated, *months]]
    tables = [RAW_TABLE, *(t.name for t in CURATED_TABLES)]
    return (
        lake
        + catalog_requests(settings, tenant.database, tables)
        + query_requests(settings, tenant.workgroup)
    )


def central_reads(settings: Settings) -> list[Request]:
    """The platform's own cross-org data, catalog and workgroup: no tenant's role may touch it."""
    env = settings.environment
    table = keys.table_name(keys.CROSS_ORG)
    location = partition_location(curated_location(env.lake_root, table), MONTH)
    return [
        ("s3:GetObject", object_arn(location + VERSION_FILE), {}),
        listing(location),
        *catalog_requests(settings, env.central_database, [table]),
        *query_requests(settings, env.central_workgroup),
    ]


def lake_writes(settings: Settings, org_id: str) -> list[Request]:
    """Writes to a tenant's own lake and catalog: its reader role is read-only."""
    env, tenant = settings.environment, settings.tenants.get(org_id)
    month = object_arn(raw_month(env.lake_root, org_id, MONTH) + VERSION_FILE)
    glue = f"arn:aws:glue:{env.region}:{ACCOUNT}"
    return [
        ("s3:PutObject", month, {}),
        ("s3:DeleteObject", month, {}),
        ("glue:CreateTable", f"{glue}:table/{tenant.database}/{RAW_TABLE}", {}),
        ("glue:DeleteTable", f"{glue}:table/{tenant.database}/{RAW_TABLE}", {}),
        ("glue:DeleteDatabase", f"{glue}:database/{tenant.database}", {}),
    ]
