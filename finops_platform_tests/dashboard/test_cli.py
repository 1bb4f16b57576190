"""`finops dashboard`: the Streamlit command line and environment it starts, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.dashboard import cli
from finops_platform.dashboard.scope import TENANT_ENV
from finops_platform_tests.conftest import WriteConfig, tenant_entry


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    """Register the command on `finops` for this test and record what it would start."""
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(command: list[str], environment: dict[str, str]) -> int:
        calls.append((command, environment))
        return 0

    monkeypatch.setattr(cli, "run_until_stopped", fake_run)
    monkeypatch.setitem(main.commands, "dashboard", cli.dashboard)
    return calls


def option(command: list[str], name: str) -> str:
    return command[command.index(f"--{name}") + 1]


def test_starts_streamlit_offline_on_loopback_with_the_groups_settings(
    started, finops_home: Path, write_config: WriteConfig, tmp_path: Path, monkeypatch
) -> None:
    config = write_config([tenant_entry("tenant_alpha", tmp_path / "a")])
    monkeypatch.delenv("CONFIG_PATH")
    monkeypatch.setenv("ENVIRONMENT", "staging")  # --env wins over the variable
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "--env",
            "dev",
            "dashboard",
            "--tenant",
            "tenant_alpha",
            "--port",
            "8611",
        ],
    )
    assert result.exit_code == 0, result.output
    ((command, environment),) = started
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert Path(command[4]) == cli.APP
    assert option(command, "server.address") == "127.0.0.1"
    assert option(command, "server.port") == "8611"
    assert option(command, "server.headless") == "true"
    assert option(command, "browser.gatherUsageStats") == "false"
    assert environment["CONFIG_PATH"] == str(config.resolve())
    assert environment["ENVIRONMENT"] == "dev"
    assert environment["FINOPS_HOME"] == str(finops_home)
    assert environment[TENANT_ENV] == "tenant_alpha"
    assert "http://127.0.0.1:8611" in result.output


def test_without_tenant_it_is_the_central_view(
    started, finops_home: Path, write_config: WriteConfig, tmp_path: Path, monkeypatch
) -> None:
    write_config([tenant_entry("tenant_alpha", tmp_path / "a")])
    monkeypatch.setenv(TENANT_ENV, "tenant_alpha")  # a stale variable never scopes it
    result = CliRunner().invoke(main, ["dashboard"])
    assert result.exit_code == 0, result.output
    ((command, environment),) = started
    assert option(command, "server.port") == "8501"
    assert TENANT_ENV not in environment


def test_an_unknown_tenant_is_a_one_line_error(
    started, finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config([tenant_entry("tenant_alpha", tmp_path / "a")])
    result = CliRunner().invoke(main, ["dashboard", "--tenant", "nobody"])
    assert result.exit_code == 2
    assert "unknown tenant 'nobody'" in result.output
    assert not started
