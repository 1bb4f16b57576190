"""A real moto server on a free loopback port, started and stopped by its own PID."""

from __future__ import annotations

import datetime as dt
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


def column(name: str, kind: str, precision: int = 0, scale: int = 0) -> dict:
    """One column of a canned Athena result."""
    return {"Name": name, "Label": name, "Type": kind, "Precision": precision, "Scale": scale}


def canned(columns: list[dict], *rows: list[str]) -> dict:
    """A canned Athena result: its columns and rows (values as Athena's text)."""
    header = {"Data": [{"VarCharValue": c["Name"]} for c in columns]}
    data = [{"Data": [{"VarCharValue": v} for v in row]} for row in rows]
    return {"rows": [header, *data], "column_info": columns}


def raw_ingest_results(month: dt.date, rows: int, duplicated_keys: int = 0) -> list[dict]:
    """What Athena answers raw_cur's queries for a month of `rows` rows: the UNLOAD, then the
    staged version's profile and duplicate keys (sql/validation/raw_month_profile.sql,
    raw_duplicate_line_items.sql)."""
    counts = ["row_count", "rows_outside_period", "rows_other_billing_period"]
    counts += ["rows_with_non_finite_cost"]
    usage = [f"{month:%Y-%m-%d} 00:00:00.000", f"{month:%Y-%m}-28 23:00:00.000"]
    return [
        canned([column("rows", "bigint")], [str(rows)]),
        canned(
            [
                *(column(name, "bigint") for name in counts),
                column("min_usage_start", "timestamp"),
                column("max_usage_start", "timestamp"),
                column("unblended_cost", "decimal", 38, 10),
                column("usage_accounts", "bigint"),
                column("payer_accounts", "bigint"),
            ],
            [str(rows), "0", "0", "0", *usage, "4321.0000000000", "3", "1"],
        ),
        canned(
            [column("duplicated_keys", "bigint"), column("extra_rows", "bigint")],
            [str(duplicated_keys), str(duplicated_keys)],
        ),
    ]
