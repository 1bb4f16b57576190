"""The prod code location: deploy/Dockerfile's command serves the definitions over gRPC, and
deploy/prod/workspace.yaml (the daemon's and webserver's workspace) loads them from it.

The command is the Dockerfile's own `CMD`, run here with a loopback address and a free port in
place of the container's 0.0.0.0:4000; the server is stopped by its own process group.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from finops_platform.defs.common.keys import CROSS_ORG_JOB, TENANT_MONTH_JOB
from finops_platform_tests.conftest import REPO_ROOT, WriteConfig, tenant_entry
from finops_platform_tests.deploy.image import image_command
from finops_platform_tests.support.dagster_dev import (
    STARTUP_TIMEOUT_S,
    dagster_executable,
    free_port,
    stop_process_group,
    wait_until,
)

WORKSPACE = REPO_ROOT / "deploy" / "prod" / "workspace.yaml"


def served_command(port: int) -> list[str]:
    """The Dockerfile's CMD, on 127.0.0.1:`port`."""
    command = image_command()
    assert command[0] == "dagster"
    command[0] = str(dagster_executable())
    command[command.index("-h") + 1] = "127.0.0.1"
    command[command.index("-p") + 1] = str(port)
    return command


def test_the_prod_workspace_loads_the_definitions_the_image_serves(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    port = free_port()
    monkeypatch.setenv("DAGSTER_CODE_LOCATION_HOST", "127.0.0.1")
    monkeypatch.setenv("DAGSTER_CODE_LOCATION_PORT", str(port))
    with open(tmp_path / "code_server.log", "wb") as log:
        server = subprocess.Popen(
            served_command(port),
            cwd=REPO_ROOT,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def listening() -> bool:
            assert server.poll() is None, (tmp_path / "code_server.log").read_text()
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        wait_until("the code server to listen", listening, STARTUP_TIMEOUT_S)
        with (
            dg.instance_for_test() as instance,
            WorkspaceProcessContext(instance, WorkspaceFileTarget([str(WORKSPACE)])) as workspace,
        ):
            location = workspace.create_request_context().get_code_location("finops_platform")
            jobs = {
                job.name
                for repository in location.get_repositories().values()
                for job in repository.get_all_jobs()
            }
        assert {TENANT_MONTH_JOB, CROSS_ORG_JOB} <= jobs
    finally:
        stop_process_group(server)
