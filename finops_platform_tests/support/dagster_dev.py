"""`dagster dev` for real in tests: start and stop it by PID, and drive it through GraphQL.

Launches go the way the UI launches them (docs/ARCHITECTURE.md, "Dagster 1.13.27 facts verified
here").
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from finops_platform_tests.conftest import REPO_ROOT

ASSET_JOB = "__ASSET_JOB"  # the implicit job the UI launches asset materializations with

STARTUP_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 180.0
POLL_INTERVAL_S = 0.5
STOP_TIMEOUT_S = 30.0

# The webserver spawns one process per run. DefaultRunCoordinator launches it at submit time
# instead of waiting for the daemon's queue tick, and the in_process executor saves a process
# per step; together they take the test from ~31 s to ~18 s (docs/ARCHITECTURE.md).
DAGSTER_YAML = {
    "run_coordinator": {
        "module": "dagster._core.run_coordinator",
        "class": "DefaultRunCoordinator",
    },
    "telemetry": {"enabled": False},
}
IN_PROCESS_EXECUTOR = {"execution": {"config": {"in_process": {}}}}


# --------------------------------------------------------------------------------------------
# GraphQL documents. Shapes checked against dagster-graphql 1.13.27's schema and the UI's own
# ConfigPartitionForAssetJobQuery.
# --------------------------------------------------------------------------------------------

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name pipelines { name } } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

# What the UI asks before launching one partition of an asset job: the partition's tags
# (dagster/partition and the per-dimension tags) and run config.
PARTITION_QUERY = """
query PartitionForAssetJob(
  $repositoryName: String!
  $repositoryLocationName: String!
  $jobName: String!
  $partitionName: String!
  $assetKeys: [AssetKeyInput!]!
) {
  pipelineOrError(
    params: {
      pipelineName: $jobName
      repositoryName: $repositoryName
      repositoryLocationName: $repositoryLocationName
    }
  ) {
    __typename
    ... on Pipeline {
      partition(partitionName: $partitionName, selectedAssetKeys: $assetKeys) {
        name
        runConfigOrError {
          __typename
          ... on PartitionRunConfig { yaml }
          ... on PythonError { message }
        }
        tagsOrError {
          __typename
          ... on PartitionTags { results { key value } }
          ... on PythonError { message }
        }
      }
    }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on PythonError { message }
  }
}
"""

# The UI sends every check of the selected assets that belongs to the job ("assetChecksAvailable").
ASSET_CHECKS_QUERY = """
query AssetChecks($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      assetChecksOrError {
        __typename
        ... on AssetChecks { checks { name blocking jobNames } }
      }
    }
  }
}
"""

LAUNCH_MUTATION = """
mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      status
      tags { key value }
      assetSelection { path }
      assetCheckSelection { name assetKey { path } }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""

RUN_EVENTS_QUERY = """
query RunEvents($runId: ID!, $afterCursor: String) {
  logsForRun(runId: $runId, afterCursor: $afterCursor) {
    __typename
    ... on EventConnection {
      cursor
      hasMore
      events {
        __typename
        ... on MessageEvent { message level stepKey }
        ... on ExecutionStepFailureEvent { error { message stack } }
        ... on MaterializationEvent {
          assetKey { path }
          partition
          metadataEntries {
            label
            __typename
            ... on IntMetadataEntry { intRepr }
            ... on TextMetadataEntry { text }
          }
        }
        ... on AssetCheckEvaluationEvent {
          evaluation { checkName assetKey { path } success severity partition description }
        }
      }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DagsterDev:
    """A running `dagster dev`: where to reach it and where its output goes."""

    url: str
    log_path: Path

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"


@dataclass(frozen=True)
class CodeLocation:
    location_name: str
    repository_name: str


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the small race until dagster binds it is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(what: str, probe: Callable[[], Any], timeout_s: float) -> Any:
    """Call `probe` until it returns something truthy; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(POLL_INTERVAL_S)


def graphql(server: DagsterDev, query: str, variables: dict[str, Any] | None = None) -> Any:
    """POST one GraphQL document; GraphQL-level errors fail the test with the server's words."""
    response = requests.post(
        server.graphql_url, json={"query": query, "variables": variables or {}}, timeout=30
    )
    try:
        body = response.json()
    except ValueError:
        response.raise_for_status()
        raise
    if body.get("errors"):
        pytest.fail(f"GraphQL errors: {json.dumps(body['errors'], indent=2)}")
    response.raise_for_status()
    return body["data"]


def dagster_executable() -> Path:
    """The `dagster` CLI of the interpreter running the tests (the venv's, in CI too).

    sys.executable is deliberately not resolved: in a venv it is a symlink whose directory is
    the venv's bin, which is where `dagster` lives.
    """
    path = Path(sys.executable).parent / "dagster"
    if not path.exists():
        pytest.fail(f"no dagster CLI beside {sys.executable}; install the project into this env")
    return path


def _reset_interrupt_signals() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and `dagster dev`
    # then also ignores SIGTERM (docs/ARCHITECTURE.md). Restore the defaults so it always stops on
    # SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to one process group; False when no process of the group is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_for_group_exit(pgid: int, timeout_s: float) -> bool:
    """Wait until no process of the group is left; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while signal_group(pgid, 0):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
    return True


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop `dagster dev` and everything it started, by its own process group (its PID).

    start_new_session=True made proc.pid the id of a new process group holding the webserver,
    the daemon and the code servers, so nothing else on the machine is touched.
    """
    if not signal_group(proc.pid, signal.SIGTERM):
        return
    # Reap the leader first: a zombie leader still counts as a member of the group.
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_TIMEOUT_S)
    # dagster dev's code-server watchdog can restart a code server while shutting down ("Code
    # server process has exited with code 0. Restarting the code server process.", seen about
    # one run in five on 1.13.27). That one never got the first SIGTERM: signal the rest again.
    signal_group(proc.pid, signal.SIGTERM)
    if not wait_for_group_exit(proc.pid, STOP_TIMEOUT_S):
        signal_group(proc.pid, signal.SIGKILL)
        wait_for_group_exit(proc.pid, 10)
    if proc.poll() is None:
        proc.wait(timeout=10)


def print_log(log_path: Path) -> None:
    text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    print(f"\n----- dagster dev log ({log_path}) -----\n{text}\n----- end of dagster dev log -----")


@contextmanager
def running_dagster_dev(tmp_path: Path, env: dict[str, str]) -> Iterator[DagsterDev]:
    """Start `dagster dev` on the repo's workspace.yaml; stop it and show its log on failure."""
    port = free_port()
    server = DagsterDev(url=f"http://127.0.0.1:{port}", log_path=tmp_path / "dagster_dev.log")
    command = [
        str(dagster_executable()),
        "dev",
        "-w",
        str(REPO_ROOT / "workspace.yaml"),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
    ]
    failed = False
    with open(server.log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_reset_interrupt_signals,
        )
        try:
            wait_for_server(server, proc)
            yield server
        except BaseException as exc:
            failed = not isinstance(exc, pytest.skip.Exception)
            raise
        finally:
            stop_process_group(proc)
            if failed:
                print_log(server.log_path)


def wait_for_server(server: DagsterDev, proc: subprocess.Popen[bytes]) -> None:
    """Wait for the webserver to answer; an early exit of `dagster dev` fails at once."""

    def answers() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited early with code {proc.returncode}")
        try:
            return requests.get(f"{server.url}/server_info", timeout=2).ok
        except requests.RequestException:
            return False

    wait_until("dagster dev's /server_info", answers, STARTUP_TIMEOUT_S)


def wait_for_code_location(server: DagsterDev, timeout_s: float) -> CodeLocation:
    """Wait until the workspace's code location is loaded; a load error fails with its trace.

    /server_info answers before the code location has been imported, and a launch against a
    location that is still LOADING fails, so the workspace itself is polled.
    """

    def loaded() -> CodeLocation | None:
        workspace = graphql(server, WORKSPACE_QUERY)["workspaceOrError"]
        if workspace["__typename"] != "Workspace":
            pytest.fail(f"workspaceOrError: {workspace}")
        entries = workspace["locationEntries"]
        if not entries or any(e["loadStatus"] != "LOADED" for e in entries):
            return None
        for entry in entries:
            location = entry["locationOrLoadError"] or {}
            if location.get("__typename") == "PythonError":
                stack = "".join(location["stack"])
                pytest.fail(
                    f"code location {entry['name']} failed to load:\n{location['message']}{stack}"
                )
        for entry in entries:
            for repository in entry["locationOrLoadError"]["repositories"]:
                if any(p["name"] == ASSET_JOB for p in repository["pipelines"]):
                    return CodeLocation(entry["name"], repository["name"])
        pytest.fail(f"no repository with {ASSET_JOB} in the workspace: {entries}")

    return wait_until("the code location to load", loaded, timeout_s)


def partition_run_config_and_tags(
    server: DagsterDev, location: CodeLocation, partition: str, asset_keys: list[dict]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The partition's run config and tags, asked for exactly as the UI's launch button does."""
    data = graphql(
        server,
        PARTITION_QUERY,
        {
            "repositoryName": location.repository_name,
            "repositoryLocationName": location.location_name,
            "jobName": ASSET_JOB,
            "partitionName": partition,
            "assetKeys": asset_keys,
        },
    )
    job = data["pipelineOrError"]
    assert job["__typename"] == "Pipeline", job
    partition = job["partition"]
    run_config = partition["runConfigOrError"]
    tags = partition["tagsOrError"]
    assert run_config["__typename"] == "PartitionRunConfig", run_config
    assert tags["__typename"] == "PartitionTags", tags
    return yaml.safe_load(run_config["yaml"]) or {}, tags["results"]


def job_checks_of(server: DagsterDev, asset_key: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Checks of one asset that are part of the asset job: what the UI puts in the launch."""
    node = graphql(server, ASSET_CHECKS_QUERY, {"assetKey": asset_key})["assetNodeOrError"]
    assert node["__typename"] == "AssetNode", node
    checks = node["assetChecksOrError"]
    assert checks["__typename"] == "AssetChecks", checks
    return [
        {"assetKey": asset_key, "name": check["name"]}
        for check in checks["checks"]
        if ASSET_JOB in check["jobNames"]
    ]


def launch_partition_run(
    server: DagsterDev, location: CodeLocation, partition: str, asset_keys: list[dict]
) -> str:
    """Launch the assets and their checks for one partition, the way the UI does; the run id."""
    run_config, tags = partition_run_config_and_tags(server, location, partition, asset_keys)
    assert {"key": "dagster/partition", "value": partition} in tags, tags
    check_selection = [check for key in asset_keys for check in job_checks_of(server, key)]
    data = graphql(
        server,
        LAUNCH_MUTATION,
        {
            "executionParams": {
                "selector": {
                    "repositoryName": location.repository_name,
                    "repositoryLocationName": location.location_name,
                    "jobName": ASSET_JOB,
                    "assetSelection": asset_keys,
                    "assetCheckSelection": check_selection,
                },
                # The UI sends the partition's run config; the executor choice is ours (speed).
                "runConfigData": {**run_config, **IN_PROCESS_EXECUTOR},
                "executionMetadata": {"tags": tags},
            }
        },
    )
    result = data["launchPipelineExecution"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def run_events(server: DagsterDev, run_id: str) -> list[dict[str, Any]]:
    """Every event of the run, following the cursor."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        data = graphql(server, RUN_EVENTS_QUERY, {"runId": run_id, "afterCursor": cursor})
        connection = data["logsForRun"]
        assert connection["__typename"] == "EventConnection", connection
        events.extend(connection["events"])
        if not connection["hasMore"]:
            return events
        cursor = connection["cursor"]


def describe_failure(events: list[dict[str, Any]]) -> str:
    """The run's error messages, so a failed run explains itself in the test output."""
    lines = []
    for event in events:
        if event.get("level") in ("ERROR", "CRITICAL") or event.get("error"):
            lines.append(f"[{event['__typename']} {event.get('stepKey')}] {event.get('message')}")
            if event.get("error"):
                lines.append(event["error"]["message"] + "".join(event["error"]["stack"]))
    return "\n".join(lines) or "(no error events)"


def wait_for_run(server: DagsterDev, run_id: str, timeout_s: float) -> dict[str, Any]:
    """Poll the run until it reaches a terminal status and return it."""

    def finished() -> dict[str, Any] | None:
        run = graphql(server, RUN_QUERY, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        return run if run["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

    return wait_until(f"run {run_id} to finish", finished, timeout_s)


def materialization_of(events: list[dict[str, Any]], asset: str) -> dict[str, Any]:
    found = [
        e
        for e in events
        if e["__typename"] == "MaterializationEvent" and e["assetKey"]["path"] == [asset]
    ]
    assert len(found) == 1, f"expected one materialization of {asset}, got {found}"
    return found[0]


def int_metadata(event: dict[str, Any], label: str) -> int:
    entries = {entry["label"]: entry for entry in event["metadataEntries"]}
    assert label in entries, f"no {label!r} in {sorted(entries)}"
    assert entries[label]["__typename"] == "IntMetadataEntry", entries[label]
    # intRepr, not intValue: intValue is null above 32 bits.
    return int(entries[label]["intRepr"])
