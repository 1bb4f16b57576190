"""A real moto server on a free loopback port, started and stopped by its own PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server(log_path: Path) -> Iterator[str]:
    """Run `moto_server` on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    executable = Path(sys.executable).with_name("moto_server")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(executable), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(endpoint, process)
            yield endpoint
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            requests.get(f"{endpoint}/moto-api/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer on {endpoint}")


def reset(endpoint: str) -> None:
    """Forget every resource, between tests."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()


def queue_athena_results(endpoint: str, results: list[dict], region: str = "us-east-1") -> None:
    """What moto's Athena answers to the next queries started, one result per query, in order."""
    response = requests.post(
        f"{endpoint}/moto-api/static/athena/query-results",
        json={"region": region, "results": results},
        timeout=10,
    )
    assert response.status_code == 201, response.text
