"""A private PostgreSQL server for the tests: its own cluster in a temporary folder, on a free
loopback port, started and stopped by its own PID (Debian's `postgresql` binaries; `.ci/run`
installs them). PostgreSQL refuses to run as root, so under root the cluster runs as the
`postgres` system user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from finops_platform_tests.support.dagster_dev import free_port

USER = "finops"
PASSWORD = "test-only-password"  # a throwaway cluster on loopback, removed after the tests
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Postgres:
    port: int
    pid: int

    def connect(self, database: str = "postgres") -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname=database
        )

    def new_database(self, name: str) -> dict[str, str]:
        """Create database `name`; the variables deploy/dagster.yaml reads to use it."""
        connection = self.connect()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": name,
            "DAGSTER_PG_USER": USER,
            "DAGSTER_PG_PASSWORD": PASSWORD,
        }

    def query(self, database: str, sql: str) -> list[tuple]:
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            connection.close()


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        reason = f"PostgreSQL's {name} is not installed (Debian package postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _as_server_user(folder: Path) -> list[str]:
    """The command prefix that runs PostgreSQL as a non-root user owning `folder`."""
    if os.geteuid() != 0:
        return []
    account = pwd.getpwnam("postgres")
    os.chown(folder, account.pw_uid, account.pw_gid)
    return [
        shutil.which("setpriv") or "/usr/bin/setpriv",
        f"--reuid={account.pw_uid}",
        f"--regid={account.pw_gid}",
        "--init-groups",
    ]


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """A running server whose superuser is `finops` (password auth); databases are made with
    `Postgres.new_database`."""
    initdb, postgres = _binary("initdb"), _binary("postgres")
    folder = Path(tempfile.mkdtemp(prefix="finops-pg-"))
    try:
        drop = _as_server_user(folder)
        secret = folder / "password"
        secret.write_text(PASSWORD)
        os.chown(secret, folder.stat().st_uid, folder.stat().st_gid)
        subprocess.run(
            [
                *drop,
                initdb,
                *("-D", str(folder / "data"), "-U", USER, f"--pwfile={secret}"),
                *("--auth=scram-sha-256", "--encoding=UTF8", "--no-sync"),
            ],
            check=True,
            capture_output=True,
        )
        port = free_port()
        log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(
            [
                *drop,
                postgres,
                *("-D", str(folder / "data"), "-p", str(port)),
                *("-h", "127.0.0.1", "-k", str(folder), "-c", "fsync=off"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_ready(server, port, folder)
            yield Postgres(port=port, pid=server.pid)
        finally:
            server.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_ready(server: subprocess.Popen, port: int, folder: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    probe = Postgres(port=port, pid=server.pid)
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"postgres exited: {(folder / 'server.log').read_text()[-2000:]}")
        try:
            probe.connect().close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
