"""The Dagster deployment's ECS services in Terraform (terraform/modules/platform/services.tf)
against the files the tasks run: every variable deploy/prod's instance and workspace files read
is set where it is read, the password only from its secret, the commands are the image's and the
README's, the daemon may launch runs and nothing more, and nothing is reachable from outside.

Evaluated with terraform_eval.py, as the rest of the estate (no `terraform plan` here).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from finops_platform.settings import REPO_ROOT
from finops_platform_tests.deploy.estate import ACCOUNT, TERRAFORM, Estate, evaluate_estate
from finops_platform_tests.deploy.iam_eval import allows, matches, policy_statements
from finops_platform_tests.deploy.image import image_command, image_file
from finops_platform_tests.deploy.terraform_eval import (
    Block,
    Module,
    Unknown,
    json_with_unknowns,
    parse_module,
)

REPO_CONFIG = REPO_ROOT / "config" / "tenants_config.json"
PROD = REPO_ROOT / "deploy" / "prod"
SERVICES = ("code_location", "daemon", "webserver")
# The password's source: the RDS-managed secret's `password` key.
PG_SECRET = Unknown("${aws_db_instance.dagster.master_user_secret[0].secret_arn}:password::")


@pytest.fixture(params=["staging", "prod"])
def estate(request: pytest.FixtureRequest, tmp_path: Path) -> Estate:
    return evaluate_estate(REPO_CONFIG, request.param, tmp_path / "finops_home")


def env_reads(node: Any) -> set[str]:
    """Every `{env: NAME}` of a Dagster YAML file: the variables it reads."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return {name for value in node.values() for name in env_reads(value)}
    if isinstance(node, list):
        return {name for value in node for name in env_reads(value)}
    return set()


def prod_reads(name: str) -> set[str]:
    return env_reads(yaml.safe_load((PROD / name).read_text(encoding="utf-8")))


def each(module: Module, kind: str, name: str) -> dict[str, dict[str, Any]]:
    """A `for_each` resource's instances: key -> the scope its attributes evaluate in."""
    instances = module.evaluate(module.block("resource", kind, name).attributes["for_each"])
    return {key: {"each": {"key": key, "value": value}} for key, value in instances.items()}


def containers(module: Module) -> dict[str, dict[str, Any]]:
    """Each task's one container, as the task definition registers it, by task (and `run`)."""
    block = module.block("resource", "aws_ecs_task_definition", "dagster")
    found = {}
    for key, scope in each(module, "aws_ecs_task_definition", "dagster").items():
        (found[key],) = json_with_unknowns(module.attribute(block, "container_definitions", scope))
    assert set(found) == {*SERVICES, "run"}
    return found


def run_task(module: Module, name: str) -> Any:
    """An attribute of the run task definition (the `run` instance)."""
    block = module.block("resource", "aws_ecs_task_definition", "dagster")
    return module.attribute(block, name, each(module, "aws_ecs_task_definition", "dagster")["run"])


def environment(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in container["environment"]}


def secrets(container: dict[str, Any]) -> dict[str, Any]:
    return {s["name"]: s["valueFrom"] for s in container["secrets"]}


def test_every_variable_the_instance_and_workspace_read_is_set_where_they_are_read(
    estate: Estate,
) -> None:
    platform = estate.platform
    found = containers(platform)
    instance, workspace = prod_reads("dagster.yaml"), prod_reads("workspace.yaml")
    assert {n for n in instance if n.startswith("DAGSTER_PG_")} == {
        f"DAGSTER_PG_{k}" for k in ("HOST", "PORT", "DB", "USER", "PASSWORD")
    }
    assert workspace == {"DAGSTER_CODE_LOCATION_HOST", "DAGSTER_CODE_LOCATION_PORT"}
    postgres = {n for n in instance if n.startswith("DAGSTER_PG_")}
    for key, container in found.items():
        given = set(environment(container)) | set(secrets(container))
        assert not set(environment(container)) & set(secrets(container)), key
        # A run and the code location open the instance (its storage) too.
        needed = instance | workspace if key in ("daemon", "webserver") else postgres
        assert needed <= given, f"{key} lacks {sorted(needed - given)}"
        env = environment(container)
        assert env["ENVIRONMENT"] == estate.settings.environment.name
        assert env["AWS_REGION"] == estate.settings.environment.region
        # The tenants config from its SSM parameter (load_settings reads `ssm:/name`).
        tenants = each(platform, "aws_ssm_parameter", "config")["tenants_config"]
        parameter = platform.attribute(
            platform.block("resource", "aws_ssm_parameter", "config"), "name", tenants
        )
        assert env["CONFIG_PATH"] == f"ssm:{parameter}"

    # What those variables name: the run task definition, its container, the code location.
    run_family = run_task(platform, "family")
    launcher = yaml.safe_load((PROD / "dagster.yaml").read_text())["run_launcher"]["config"]
    assert found["run"]["name"] == launcher["container_name"]
    discovery = platform.attribute(
        platform.block("resource", "aws_service_discovery_service", "code_location"), "name"
    )
    namespace = platform.attribute(
        platform.block("resource", "aws_service_discovery_private_dns_namespace", "dagster"),
        "name",
    )
    (port,) = [p["containerPort"] for p in found["code_location"]["portMappings"]]
    for key in ("daemon", "webserver"):
        env = environment(found[key])
        assert env["DAGSTER_ECS_RUN_TASK_DEFINITION"] == run_family
        assert env["DAGSTER_CODE_LOCATION_HOST"] == f"{discovery}.{namespace}"
        assert env["DAGSTER_CODE_LOCATION_PORT"] == str(port)
    assert platform.local("code_location_host") == f"{discovery}.{namespace}"  # the output


@pytest.mark.parametrize("parameter", [None, "/custos/prod/slack_webhook_url"])
def test_the_slack_webhook_reaches_the_tasks_that_alert_only_from_ssm(
    parameter: str | None, tmp_path: Path
) -> None:
    """prod's slack_webhook is `env:FINOPS_SLACK_WEBHOOK_URL`: the code location (sensors) and
    the runs get that variable from the parameter, when there is one."""
    estate = evaluate_estate(REPO_CONFIG, "prod", tmp_path, slack_webhook_parameter=parameter)
    reference = estate.settings.environment.slack_webhook
    assert reference == "env:FINOPS_SLACK_WEBHOOK_URL"
    variable = reference.removeprefix("env:")
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{parameter}"
    execution = policy_statements(estate.platform, "execution")
    for key, container in containers(estate.platform).items():
        assert variable not in environment(container), key
        if key in ("code_location", "run") and parameter:
            assert secrets(container)[variable] == arn
            assert allows(execution, "ssm:GetParameters", arn)
        else:
            assert variable not in secrets(container), key


def test_the_postgres_password_comes_only_from_its_secret(estate: Estate) -> None:
    platform = estate.platform
    for key, container in containers(platform).items():
        assert "DAGSTER_PG_PASSWORD" not in environment(container), key
        assert secrets(container)["DAGSTER_PG_PASSWORD"] == PG_SECRET, key
        assert not [v for v in environment(container).values() if "password" in str(v)], key
    # The execution role, which ECS reads secrets as, may read that secret.
    execution = policy_statements(platform, "execution")
    reads = [s for s in execution if "secretsmanager:GetSecretValue" in s.actions]
    secret = Unknown(PG_SECRET.reference.removeprefix("${").removesuffix("}:password::"))
    assert [s.resources for s in reads] == [(secret,)]


def readme_command(program: str) -> list[str]:
    """The README's command line starting `program` (section "Staging and prod")."""
    lines = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    (line,) = [x for x in lines if x.startswith(f"{program} ")]
    return shlex.split(line.split("#")[0].removesuffix("&").strip().removesuffix("&"))


def test_the_services_run_the_images_and_the_readmes_commands(estate: Estate) -> None:
    """The code location runs the image's CMD; the daemon and the webserver the README's
    commands, on the workspace file the image carries, the webserver on the task's interface
    (reachable only through the security group)."""
    found = containers(estate.platform)
    assert found["code_location"]["command"] == image_command()
    workspace = image_file("workspace.yaml")
    daemon = readme_command("dagster-daemon")
    daemon[daemon.index("-w") + 1] = workspace
    assert found["daemon"]["command"] == daemon
    webserver = readme_command("dagster-webserver")
    webserver[webserver.index("-w") + 1] = workspace
    webserver[webserver.index("-h") + 1] = "0.0.0.0"
    assert found["webserver"]["command"] == webserver
    assert found["run"]["command"] is None  # the launcher gives each run its command
    image = estate.root.variables["dagster_image"]
    log_group = estate.platform.attribute(
        estate.platform.block("resource", "aws_cloudwatch_log_group", "dagster"), "name"
    )
    for container in found.values():
        assert container["image"] == image
        assert container["logConfiguration"]["options"]["awslogs-group"] == log_group


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_the_daemon_may_launch_runs_of_the_run_task_definition_and_nothing_more(
    estate: Estate,
) -> None:
    platform = estate.platform
    daemon = policy_statements(platform, "daemon")
    env = estate.settings.environment
    ecs = f"arn:aws:ecs:{env.region}:{ACCOUNT}"
    cluster = platform.attribute(platform.block("resource", "aws_ecs_cluster", "dagster"), "name")
    family = run_task(platform, "family")
    in_cluster = {"ecs:cluster": f"{ecs}:cluster/{cluster}"}
    task = f"{ecs}:task/{cluster}/0123abcd"
    # What EcsRunLauncher calls (dagster_aws/ecs/launcher.py, tasks.py), with
    # use_current_ecs_task_config: the run's task, its own task and network interface.
    launcher = [
        ("ecs:RunTask", f"{ecs}:task-definition/{family}:7", in_cluster),
        ("ecs:DescribeTasks", task, {}),
        ("ecs:StopTask", task, {}),
        ("ecs:TagResource", task, {"ecs:CreateAction": "RunTask"}),
        ("ecs:ListTasks", "*", in_cluster),
        ("ecs:DescribeTaskDefinition", "*", {}),
        ("ec2:DescribeNetworkInterfaces", "*", {}),
    ]
    refused = [r for r in launcher if not allows(daemon, *r)]
    assert refused == []
    elsewhere = {"ecs:cluster": f"{ecs}:cluster/other"}
    beyond = [
        ("ecs:RunTask", f"{ecs}:task-definition/{family}:7", elsewhere),
        ("ecs:RunTask", f"{ecs}:task-definition/other:1", in_cluster),
        ("ecs:RunTask", f"{ecs}:task-definition/{family}-other:1", in_cluster),
        ("ecs:StopTask", f"{ecs}:task/other/0123abcd", {}),
        ("ecs:TagResource", task, {}),
        ("ecs:ListTasks", "*", elsewhere),
        ("ecs:RegisterTaskDefinition", "*", {}),
        ("ecs:UpdateService", f"{ecs}:service/{cluster}/x", {}),
    ]
    assert [r for r in beyond if allows(daemon, *r)] == []

    # PassRole: exactly the run task's two roles, only to ECS tasks.
    passed = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    run_roles = {run_task(platform, a) for a in ("task_role_arn", "execution_role_arn")}
    assert len(run_roles) == 2
    others = {role_arn(n) for n in platform.evaluate(platform.locals["role_arns"])} - run_roles
    others |= {role_arn(f"custos_{org}_reader") for org in estate.tenants} | {role_arn("admin")}
    assert [r for r in run_roles if not allows(daemon, "iam:PassRole", r, passed)] == []
    assert [r for r in run_roles if allows(daemon, "iam:PassRole", r, {})] == []
    assert [r for r in others if allows(daemon, "iam:PassRole", r, passed)] == []

    # Nothing else: every action is the launcher's or its reading of the tenants config.
    actions = {a for s in daemon for a in s.actions}
    assert actions == {a for a, _, _ in launcher} | {
        "iam:PassRole",
        "ssm:GetParameter",
        "kms:Decrypt",
        "logs:GetLogEvents",
    }


def statement_blocks(module: Module) -> list[tuple[str, Block]]:
    """Every statement of every policy document of a module, dynamic ones' content included."""
    found = []
    for block in module.blocks:
        if block.kind == "data" and block.labels[0] == "aws_iam_policy_document":
            for statement in block.children("statement"):
                found.append((block.labels[1], statement))
            for dynamic in block.children("dynamic"):
                found += [(block.labels[1], c) for c in dynamic.children("content")]
    return found


def test_no_role_may_start_tasks_or_pass_roles_on_any_resource(estate: Estate) -> None:
    """ecs:RunTask and iam:PassRole are in the daemon's policy only, never on "*" or any
    wildcard but the run task definition's revisions. (The role module's only document is the
    trust policy.)"""
    risky = ("ecs:RunTask", "iam:PassRole")
    modules = [estate.platform, *estate.tenants.values()]
    holders = set()
    for module in modules:
        for document, statement in statement_blocks(module):
            actions = module.evaluate(statement.attributes["actions"])
            if not any(matches(a, r, ignore_case=True) for a in actions for r in risky):
                continue
            holders.add(document)
            for resource in module.evaluate(statement.attributes["resources"]):
                # Any revision of the run family; no other wildcard.
                revisions = f":task-definition/{estate.platform.local('run_family')}:*"
                assert "*" not in resource.removesuffix(revisions), resource
    assert holders == {"daemon"}
    role_module = [b for b in parse_module(TERRAFORM / "modules" / "role") if b.kind == "data"]
    assert [b.labels for b in role_module] == [("aws_iam_policy_document", "assume")]


def test_nothing_is_reachable_from_outside(estate: Estate) -> None:
    """No public address, no load balancer; into the tasks only the code location's port from
    the tasks themselves and the UI's port from the proxy's security groups."""
    platform = estate.platform
    service = platform.block("resource", "aws_ecs_service", "dagster")
    scopes = each(platform, "aws_ecs_service", "dagster")
    assert set(scopes) == set(SERVICES)
    (network,) = service.children("network_configuration")
    assert not service.children("load_balancer")
    for scope in scopes.values():
        assert platform.attribute(network, "assign_public_ip", scope) is False
        assert (
            platform.attribute(network, "subnets", scope)
            == (estate.root.variables["private_subnet_ids"])
        )
        assert platform.attribute(service, "desired_count", scope) == 1
    daemon = scopes["daemon"]["each"]["value"]
    assert daemon["maximum"] == 100  # never two daemons, even while deploying
    every = [b for d in TERRAFORM.rglob("*") if d.is_dir() for b in parse_module(d)]
    every += parse_module(TERRAFORM)
    kinds = {b.labels[0] for b in every if b.kind == "resource"}
    assert not {k for k in kinds if re.fullmatch(r"aws_(lb|alb|elb|api_gateway\w*)", k)}
    assert not {k for k in kinds if "ingress_rule" in k} - {"aws_vpc_security_group_ingress_rule"}

    tasks = platform.block("resource", "aws_security_group", "tasks")
    ingress = tasks.children("ingress")
    ingress += [c for d in tasks.children("dynamic") for c in d.children("content")]
    sources = []
    for rule in ingress:
        assert not {"cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"} & set(rule.attributes)
        port = platform.attribute(rule, "from_port")
        assert port == platform.attribute(rule, "to_port")
        if "self" in rule.attributes:
            sources.append((port, "self"))
        else:
            sources.append((port, platform.attribute(rule, "security_groups")))
    clients = estate.root.variables["dagster_webserver_clients"]
    assert sources == [(4000, "self"), (3000, clients)]
    # The only ingress rule resource: PostgreSQL's, from the tasks' group.
    rules = [b for b in platform.blocks if b.labels[:1] == ("aws_vpc_security_group_ingress_rule",)]
    assert [platform.attribute(r, "referenced_security_group_id") for r in rules] == [
        Unknown("aws_security_group.tasks.id")
    ]
