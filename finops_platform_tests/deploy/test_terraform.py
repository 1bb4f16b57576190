"""The AWS estate as Terraform (terraform/): it parses, names exactly what Python names (and what
`finops tenant init` creates), each tenant's roles reach only that tenant's data, and checkov
finds nothing to fail.

No provider can be downloaded here, so there is no `terraform plan`: the modules are evaluated
by terraform_eval.py, for the repository's tenants and for a config with every override.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.lake import crawler_name, raw_table_location
from finops_platform.settings import ORG_ID_PATTERN, REPO_ROOT, load_settings
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.deploy.estate import (
    TERRAFORM,
    Estate,
    Request,
    central_reads,
    evaluate_estate,
    lake_writes,
    resource_value,
    results_location,
    tenant_reads,
)
from finops_platform_tests.deploy.iam_eval import Statement, allows, data_actions, policy_statements
from finops_platform_tests.deploy.terraform_eval import Module, Unknown

REPO_CONFIG = REPO_ROOT / "config" / "tenants_config.json"
# Every override a tenant can have, an inactive tenant, and two org_ids one a prefix of the other
# (org=acme/ must not reach org=acme_eu/).
OVERRIDES = [
    tenant_entry(
        "acme",
        "s3://deliveries/acme/",
        glue_db="acme_costs",
        athena_workgroup="acme-queries",
        glue_crawler=True,
    ),
    tenant_entry("acme_eu", "s3://deliveries/acme-eu/", glue_crawler=True),
    tenant_entry("plain", "s3://deliveries/plain/"),
    tenant_entry("gone", "s3://deliveries/gone/", active=False),
]


@pytest.fixture
def overrides_config(tmp_path: Path) -> Path:
    path = tmp_path / "tenants.json"
    path.write_text(json.dumps(OVERRIDES), encoding="utf-8")
    return path


@pytest.fixture(params=["repo/staging", "repo/prod", "overrides/staging"])
def estate(request: pytest.FixtureRequest, tmp_path: Path, overrides_config: Path) -> Estate:
    config, environment = request.param.split("/")
    path = REPO_CONFIG if config == "repo" else overrides_config
    return evaluate_estate(path, environment, tmp_path / "finops_home")


def test_every_tf_file_parses_with_python_hcl2() -> None:
    files = sorted(TERRAFORM.rglob("*.tf"))
    root = {p.name for p in files if p.parent == TERRAFORM}
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} <= root
    assert {p.parent.name for p in files} >= {"tenant", "platform", "workgroup"}
    for path in files:
        with path.open(encoding="utf-8") as handle:
            assert hcl2.load(handle), f"{path} holds nothing"


def test_terraform_accepts_exactly_the_org_ids_python_does() -> None:
    """One rule for an org_id on both sides: a config Python accepts never fails the plan."""
    with (TERRAFORM / "modules" / "tenant" / "variables.tf").open(encoding="utf-8") as handle:
        (variable,) = [v['"org_id"'] for v in hcl2.load(handle)["variable"] if '"org_id"' in v]
    (validation,) = variable["validation"]
    (pattern,) = re.findall(r'regex\("(.+?)", var\.org_id\)', validation["condition"])
    assert pattern == ORG_ID_PATTERN
    assert len(f"custos_{'a' * 49}_crawler") == 64  # the longest org_id's role fits IAM


def test_terraform_has_a_module_for_each_active_tenant_of_the_config(estate: Estate) -> None:
    assert set(estate.tenants) == {t.org_id for t in estate.settings.tenants.active()}


def test_each_tenants_names_are_pythons(estate: Estate) -> None:
    env = estate.settings.environment
    for org, module in estate.tenants.items():
        tenant = estate.settings.tenants.get(org)
        database = resource_value(module, "aws_glue_catalog_database", "this", "name")
        assert database == tenant.database == module.output("tenant")["database"]
        assert module.local("raw_location") == raw_table_location(env.lake_root, org)
        workgroup = module.child("workgroup")
        settings = ("configuration", "enforce_workgroup_configuration")
        assert resource_value(workgroup, "aws_athena_workgroup", "this", *settings) is True
        name = resource_value(workgroup, "aws_athena_workgroup", "this", "name")
        assert name == tenant.workgroup == module.output("tenant")["workgroup"]
        cutoff = ("configuration", "bytes_scanned_cutoff_per_query")
        assert resource_value(workgroup, "aws_athena_workgroup", "this", *cutoff) == (
            env.athena_bytes_scanned_cutoff
        )
        output = ("configuration", "result_configuration", "output_location")
        assert resource_value(workgroup, "aws_athena_workgroup", "this", *output) == (
            results_location(estate.settings, tenant.workgroup)
        )
        assert_crawler(module, tenant.glue_crawler, org)


def assert_crawler(module: Module, glue_crawler: bool, org: str) -> None:
    """Only a tenant with glue_crawler has a crawler: lake.py's name, over its raw prefix."""
    passed = module.variables  # what the root module passed this tenant's instance
    count = resource_value(module, "aws_glue_crawler", "this", "count")
    assert count == (1 if glue_crawler else 0)
    if count:
        assert resource_value(module, "aws_glue_crawler", "this", "name") == crawler_name(org)
        assert (
            resource_value(module, "aws_glue_crawler", "this", "database_name")
            == (module.output("tenant")["database"])
        )
        path = resource_value(module, "aws_glue_crawler", "this", "s3_target", "path")
        assert path == raw_table_location(passed["estate"]["lake_root"], org)


def test_the_platforms_names_are_pythons(estate: Estate) -> None:
    env, platform = estate.settings.environment, estate.platform
    central = resource_value(platform, "aws_glue_catalog_database", "central", "name")
    assert central == env.central_database
    workgroup = platform.child("central_workgroup").output("workgroup")
    assert workgroup["name"] == env.central_workgroup
    assert workgroup["results_location"] == results_location(estate.settings, env.central_workgroup)
    lake_bucket = env.lake_root.removeprefix("s3://").split("/")[0]
    assert lake_bucket in platform.local("data_buckets")


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_an_environments_values_and_defaults_are_pythons(environment: str, tmp_path: Path) -> None:
    """Terraform reads the environment file itself; a key it leaves out takes the default
    EnvironmentSettings gives it (dev leaves out the Athena ones)."""
    env = load_settings(REPO_CONFIG, environment, tmp_path).environment
    root = evaluate_estate(REPO_CONFIG, environment, tmp_path).root
    estate = root.local("estate")
    for name in (
        "lake_root",
        "region",
        "athena_results_root",
        "central_database",
        "central_workgroup",
    ):
        assert estate[name] == getattr(env, name), name
    assert estate["bytes_scanned_cutoff"] == env.athena_bytes_scanned_cutoff


def tenant_init_names(config: Path, org_id: str) -> set[str]:
    """The names `finops tenant init ORG --dry-run` plans (its table's second column)."""
    args = ["--config", str(config), "--env", "staging", "tenant", "init", org_id, "--dry-run"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.output.splitlines()[2:]]
    return {row[1] for row in rows if len(row) == 3}


def test_terraform_and_tenant_init_name_the_same_resources(
    aws: str, finops_home: Path, overrides_config: Path
) -> None:
    import boto3

    staging = json.loads((REPO_ROOT / "config/environments/staging.json").read_text())
    staging["glue_crawler_role_arn"] = "arn:aws:iam::123456789012:role/crawler"
    (overrides_config.parent / "environments").mkdir()
    (overrides_config.parent / "environments" / "staging.json").write_text(json.dumps(staging))
    boto3.client("s3").create_bucket(Bucket="finops-lake-staging")

    estate = evaluate_estate(overrides_config, "staging", finops_home)
    platform = estate.platform
    central = {
        resource_value(platform, "aws_glue_catalog_database", "central", "name"),
        platform.child("central_workgroup").output("workgroup")["name"],
    }
    for org, module in estate.tenants.items():
        crawler = resource_value(module, "aws_glue_crawler", "this", "name")
        count = resource_value(module, "aws_glue_crawler", "this", "count")
        names = module.output("tenant")
        assert names["crawler"] == (crawler if count else None)
        terraform = {
            names["raw_location"],
            names["database"],
            names["workgroup"],
            *central,
            *([crawler] if count else []),
        }
        assert tenant_init_names(overrides_config, org) == terraform


def role_policies(module: Module) -> dict[str, list[Statement]]:
    """The tenant's roles' policies: the reader's, and the crawler's when it has a crawler.
    Each role is given exactly its document (the role module attaches what it is given)."""
    roles = {"reader": "reader_role", "crawler": "crawler_role"}
    policies = {}
    for document, call in roles.items():
        block = module.block("module", call)
        if "count" in block.attributes and not module.evaluate(block.attributes["count"]):
            continue
        given = module.evaluate(block.attributes["policies"])
        assert given == {"own-tenant-only": Unknown(f"aws_iam_policy_document.{document}.json")}
        policies[document] = policy_statements(module, document)
    return policies


def test_a_tenants_reader_role_reads_its_own_data(estate: Estate) -> None:
    for org, module in estate.tenants.items():
        statements = policy_statements(module, "reader")
        refused = [r for r in tenant_reads(estate.settings, org) if not allows(statements, *r)]
        assert refused == [], f"{org}'s reader cannot do its own work"


def test_a_tenants_roles_reach_no_other_tenants_data_and_write_none(estate: Estate) -> None:
    settings = estate.settings
    for org, module in estate.tenants.items():
        foreign: list[Request] = central_reads(settings)
        for other in settings.tenants.tenants:  # inactive ones too
            if other.org_id != org:
                foreign += tenant_reads(settings, other.org_id)
        for role, statements in role_policies(module).items():
            reached = [r for r in foreign if allows(statements, *r)]
            assert reached == [], f"{org}'s {role} role reaches another tenant's data"
        reader = policy_statements(module, "reader")
        writes = [r for r in lake_writes(settings, org) if allows(reader, *r)]
        assert writes == [], f"{org}'s reader role may write its lake or catalog"


def test_no_tenant_statement_has_a_wildcard_resource_or_action(estate: Estate) -> None:
    for org, module in estate.tenants.items():
        for role, statements in role_policies(module).items():
            for statement in statements:
                where = f"{org}'s {role} role, actions {statement.actions}"
                assert not [a for a in statement.actions if "*" in a], where
                if data_actions(statement):
                    assert "*" not in statement.resources, where
                    assert not [r for r in statement.resources if isinstance(r, Unknown)], where


CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
# Each skip sits on its resource with its reason (`#checkov:skip=ID:reason`); this is their
# inventory, so a new skip is also a change here, seen in review.
SKIPS = {
    ("CKV_AWS_144", "module.platform.aws_s3_bucket.data"),  # no cross-region replica of the lake
    ("CKV2_AWS_62", "module.platform.aws_s3_bucket.data"),  # nothing consumes bucket events
    ("CKV_AWS_144", "module.platform.aws_s3_bucket.logs"),
    ("CKV2_AWS_62", "module.platform.aws_s3_bucket.logs"),
    ("CKV_AWS_145", "module.platform.aws_s3_bucket.logs"),  # log delivery needs SSE-S3
    # Dagster writes compute logs and scratch files in its tasks' file system. (checkov reports
    # the task definitions' for_each as one resource: their keys come from a computed map.)
    ("CKV_AWS_336", "module.platform.aws_ecs_task_definition.dagster"),
}


def checkov(directory: Path) -> dict:
    """checkov's report on a Terraform directory. It lives in its own venv (.ci/run makes it):
    its dependencies conflict with the project's."""
    if not CHECKOV.exists():
        reason = f"checkov is not installed at {CHECKOV} (.ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # --skip-download: no network here, so no severities or guideline links either.
    args = [CHECKOV, "-d", directory, "--framework", "terraform", "--skip-download", "-o", "json"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode in (0, 1), result.stderr  # 1: some check failed
    report = json.loads(result.stdout)
    assert report["summary"]["resource_count"] >= 40, report["summary"]
    return report


def test_checkov_fails_no_check_and_every_skip_is_justified() -> None:
    report = checkov(TERRAFORM)
    results = report["results"]
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in results["failed_checks"]]
    assert failed == []
    skipped = {(c["check_id"], c["resource"]) for c in results["skipped_checks"]}
    assert skipped == SKIPS
    for check in results["skipped_checks"]:
        assert len(check["check_result"].get("suppress_comment", "")) > 20, check["check_id"]
    assert report["summary"]["passed"] > 200


def test_checkov_would_fail_an_open_unencrypted_database(tmp_path: Path) -> None:
    """The gate is real: the same estate with PostgreSQL public and unencrypted fails."""
    shutil.copytree(TERRAFORM, tmp_path / "terraform")
    shutil.copytree(REPO_ROOT / "config", tmp_path / "config")
    postgres = tmp_path / "terraform" / "modules" / "platform" / "postgres.tf"
    text = postgres.read_text(encoding="utf-8")
    for setting, old, new in (
        ("publicly_accessible", "false", "true"),
        ("storage_encrypted", "true", "false"),
    ):
        text, count = re.subn(rf"({setting}\s*=\s*){old}\b", rf"\g<1>{new}", text)
        assert count == 1, setting
    postgres.write_text(text, encoding="utf-8")
    failed = {
        (c["check_id"], c["resource"])
        for c in checkov(tmp_path / "terraform")["results"]["failed_checks"]
    }
    database = "module.platform.aws_db_instance.dagster"
    assert {("CKV_AWS_16", database), ("CKV_AWS_17", database)} <= failed


# Terraform and its AWS provider come from neither PyPI nor Debian, so this runs only on a
# machine that has both (a provider mirror, as `terraform init -plugin-dir` reads it).
PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))


def test_terraform_validates_against_the_aws_providers_schema(tmp_path: Path) -> None:
    """Where Terraform and a local copy of the AWS provider exist, `terraform validate` checks
    every resource's arguments against the provider's schema (python-hcl2 checks only syntax)."""
    terraform = shutil.which("terraform")
    if terraform is None or not (PLUGIN_DIR / "registry.terraform.io/hashicorp/aws").is_dir():
        pytest.skip(f"no terraform on PATH or no AWS provider under {PLUGIN_DIR}")
    shutil.copytree(TERRAFORM, tmp_path / "terraform", ignore=shutil.ignore_patterns(".terraform*"))
    shutil.copytree(REPO_ROOT / "config", tmp_path / "config")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    for command in (
        ["init", "-backend=false", "-input=false", f"-plugin-dir={PLUGIN_DIR}"],
        ["validate", "-json"],
    ):
        result = subprocess.run(
            [terraform, *command],
            cwd=tmp_path / "terraform",
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["valid"] is True
