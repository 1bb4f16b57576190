"""Prod runs on ECS (deploy/prod/dagster.yaml, finops_platform/ecs.py), against moto's ECS and
EC2 over HTTP and a real PostgreSQL instance.

The daemon runs as an ECS task; a run it launches becomes a task of the run task definition
(registered by Terraform: here by the test, as Terraform would), in the daemon's cluster with
its launch type, sized by its tenant's `run_resources`. ECS's task metadata endpoint (how a
task finds itself) is served by a real local HTTP server. Not covered, because moto cannot:
starting a container (the run never executes here; the launch is what is tested), and the
awsvpc network a real Fargate task has (moto 5.2.6 fails to create a task's network interface:
`'NetworkInterface' object has no attribute 'private_dns_name'`), so the tasks here use bridge
networking and the copy of the daemon's subnets and security groups is not exercised.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import boto3
import dagster as dg
import pytest
import yaml
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import TENANT_MONTH_JOB
from finops_platform.defs.common.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
)
from finops_platform.ecs import CPU_TAG, MEMORY_TAG, run_size
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import REPO_ROOT, WriteConfig, tenant_entry
from finops_platform_tests.deploy.conftest import PROD_YAML, STAGING_YAML, Deploy
from finops_platform_tests.support.moto import free_port

CLUSTER = "finops"
IMAGE = "finops-platform:test"
ALPHA_SIZE = {"cpu": 2048, "memory": 8192}
ALPHA, BETA = "2026-09-01|alpha", "2026-09-01|beta"


def test_prod_differs_from_staging_only_by_running_on_ecs() -> None:
    staging, prod = (yaml.safe_load(p.read_text()) for p in (STAGING_YAML, PROD_YAML))
    launcher = prod.pop("run_launcher")
    assert prod.pop("run_monitoring")["enabled"] is True
    assert prod == staging
    assert (launcher["module"], launcher["class"]) == (
        "finops_platform.ecs",
        "TenantSizedEcsRunLauncher",
    )
    assert launcher["config"]["task_definition"] == {"env": "DAGSTER_ECS_RUN_TASK_DEFINITION"}


def test_the_dockerfile_installs_as_the_readme_says_and_serves_the_definitions() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text().splitlines()
    (install,) = [line.removeprefix("RUN ") for line in dockerfile if "pip install" in line]
    readme = (REPO_ROOT / "README.md").read_text()
    documented = [line.split("#")[0].strip() for line in readme.splitlines()]
    assert install.replace(" --no-cache-dir", "") in documented
    (command,) = [line for line in dockerfile if line.startswith("CMD ")]
    served = json.loads(command.removeprefix("CMD "))
    module = served[served.index("-m") + 1]
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert served[:3] == ["dagster", "code-server", "start"]
    assert f'module_name = "{module}"' in pyproject


@pytest.fixture
def tenants(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> None:
    write_config(
        [
            tenant_entry("alpha", tmp_path / "alpha", run_resources=ALPHA_SIZE),
            tenant_entry("beta", tmp_path / "beta"),
        ]
    )


def test_a_run_is_sized_by_its_tenant(tenants: None) -> None:
    settings = load_settings()
    assert run_size(settings, {PARTITION_TAG: ALPHA}) == {CPU_TAG: "2048", MEMORY_TAG: "8192"}
    assert run_size(settings, {PARTITION_TAG: BETA}) == {}  # the launcher's default
    assert run_size(settings, {PARTITION_TAG: "2026-09-01"}) == {}  # cross-org: no tenant
    spanning = {RANGE_START_TAG: BETA, RANGE_END_TAG: ALPHA}
    assert run_size(settings, spanning) == {CPU_TAG: "2048", MEMORY_TAG: "8192"}


class TaskMetadata(BaseHTTPRequestHandler):
    """ECS's task metadata endpoint of the daemon's task (`$ECS_CONTAINER_METADATA_URI_V4`)."""

    task: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = json.dumps(self.task if self.path == "/task" else {}).encode()
        self.send_response(200 if self.path == "/task" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metadata_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[TaskMetadata]]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), TaskMetadata)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", f"http://127.0.0.1:{server.server_port}")
    try:
        yield TaskMetadata
    finally:
        server.shutdown()
        thread.join()


def ecs_estate(monkeypatch: pytest.MonkeyPatch, metadata: type[TaskMetadata]) -> None:
    """What Terraform builds: a cluster, the daemon running as a task, the run task definition."""
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)

    def task_definition(family: str, container: str) -> str:
        return ecs.register_task_definition(
            family=family,
            # Fargate's awsvpc would be refused without a network, and fails in moto with one
            # (module docstring): bridge, and no declared compatibility, which moto accepts.
            networkMode="bridge",
            cpu="1024",
            memory="4096",
            containerDefinitions=[{"name": container, "image": IMAGE, "memory": 4096}],
        )["taskDefinition"]["taskDefinitionArn"]

    (daemon,) = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=task_definition("finops-daemon", "daemon"),
        launchType="FARGATE",
    )["tasks"]
    metadata.task = {"TaskARN": daemon["taskArn"], "Cluster": CLUSTER}
    monkeypatch.setenv("DAGSTER_ECS_RUN_TASK_DEFINITION", task_definition("finops-run", "run"))


def test_the_daemon_launches_each_run_as_an_ecs_task_sized_by_its_tenant(
    aws: str,
    tenants: None,
    deploy: Deploy,
    metadata_endpoint: type[TaskMetadata],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ecs_estate(monkeypatch, metadata_endpoint)
    deploy(PROD_YAML)
    instance = dg.DagsterInstance.get()
    target = ModuleTarget(
        module_name="finops_platform.definitions",
        attribute="defs",
        working_directory=str(REPO_ROOT),
        location_name="finops_platform",
    )
    definitions = build_definitions(load_settings())
    launched = {}
    with WorkspaceProcessContext(instance, target) as workspace:
        context = workspace.create_request_context()
        location = context.get_code_location("finops_platform")
        job = location.get_repository("__repository__").get_full_job(TENANT_MONTH_JOB)
        for key in (ALPHA, BETA):
            run = instance.create_run_for_job(
                job_def=definitions.resolve_job_def(TENANT_MONTH_JOB),
                remote_job_origin=job.get_remote_origin(),
                job_code_origin=job.get_python_origin(),
                tags={PARTITION_TAG: key},
            )
            instance.launch_run(run.run_id, context)
            launched[key] = instance.get_run_by_id(run.run_id)
    ecs = boto3.client("ecs")
    arns = [run.tags["ecs/task_arn"] for run in launched.values()]
    tasks = {t["taskArn"]: t for t in ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]}
    for key, expected in ((ALPHA, ("2048", "8192")), (BETA, ("1024", "4096"))):
        task = tasks[launched[key].tags["ecs/task_arn"]]
        assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == expected, key
        (container,) = task["overrides"]["containerOverrides"]
        assert container["name"] == "run"
        assert (container["cpu"], container["memory"]) == tuple(map(int, expected))
        assert task["taskDefinitionArn"].split("/")[-1].startswith("finops-run:")
        assert task["launchType"] == "FARGATE"  # the daemon's, copied
        assert task["clusterArn"].endswith(f"/{CLUSTER}")
    assert (launched[ALPHA].tags[CPU_TAG], launched[ALPHA].tags[MEMORY_TAG]) == ("2048", "8192")
    assert CPU_TAG not in launched[BETA].tags
