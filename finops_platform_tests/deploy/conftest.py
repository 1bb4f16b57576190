"""One private PostgreSQL server for the deployment tests (support/postgres.py); each test
gets a database of its own and a DAGSTER_HOME holding one of the deployment's instance files."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finops_platform_tests.conftest import REPO_ROOT
from finops_platform_tests.support.postgres import Postgres, postgres_server

STAGING_YAML = REPO_ROOT / "deploy" / "staging" / "dagster.yaml"
PROD_YAML = REPO_ROOT / "deploy" / "prod" / "dagster.yaml"

# Installs an instance file in DAGSTER_HOME on a new database; returns the database's name.
Deploy = Callable[[Path], str]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def deploy(postgres: Postgres, finops_home: Path, monkeypatch: pytest.MonkeyPatch) -> Deploy:
    def install(instance_file: Path) -> str:
        database = f"dagster_{uuid.uuid4().hex[:8]}"
        shutil.copy(instance_file, Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml")
        for name, value in postgres.new_database(database).items():
            monkeypatch.setenv(name, value)
        return database

    return install
