"""Shared fixtures: a private FINOPS_HOME per test, tenants configs, and the real CUR sample."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT.parent / "shared" / "samples"
REAL_SAMPLE = SAMPLES / "cur_legacy_parquet"


def real_sample_path() -> Path:
    """The real October 2018 legacy CUR export; absent is a skip, except in CI (for fixtures of
    any scope)."""
    if not REAL_SAMPLE.is_dir():
        reason = f"the real CUR sample is not at {REAL_SAMPLE} (../shared/samples beside the repo)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return REAL_SAMPLE


@pytest.fixture
def real_sample() -> Path:
    """The real October 2018 legacy CUR export; absent is a skip, except in CI."""
    return real_sample_path()


@pytest.fixture
def finops_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """All local state of one test: lake, catalog, local buckets and the Dagster instance."""
    home = tmp_path / "finops_home"
    home.mkdir()
    monkeypatch.setenv("FINOPS_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    (home / "dagster").mkdir()
    monkeypatch.delenv("CONFIG_PATH", raising=False)
    monkeypatch.setenv("ENVIRONMENT", "dev")
    return home


WriteConfig = Callable[[list[dict]], Path]


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WriteConfig:
    """Write a tenants config and point CONFIG_PATH at it."""

    def write(tenants: list[dict]) -> Path:
        path = tmp_path / "tenants_config.json"
        path.write_text(json.dumps(tenants), encoding="utf-8")
        monkeypatch.setenv("CONFIG_PATH", str(path))
        return path

    return write


def tenant_entry(org_id: str, source_path: str | Path, **extra: object) -> dict:
    return {
        "org_id": org_id,
        "active": True,
        "source_path": str(source_path),
        "sla_hours": 24,
        "partitioning": {"year": True, "month": True, "org": True},
        **extra,
    }


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto server (real HTTP on 127.0.0.1) for the whole test session."""
    from finops_platform_tests.support.moto import moto_server

    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The standard AWS environment pointed at a freshly reset moto server."""
    from finops_platform_tests.support.moto import reset

    reset(moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A local Slack webhook receiver; the environment's default reference points at it."""
    from finops_platform_tests.support.slack_receiver import SlackReceiver

    receiver = SlackReceiver().start()
    monkeypatch.setenv("FINOPS_SLACK_WEBHOOK_URL", receiver.url)
    yield receiver
    receiver.stop()
