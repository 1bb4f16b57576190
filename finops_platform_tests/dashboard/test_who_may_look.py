"""Who may look (issue 16, section 6): the dashboard has no authentication of its own, so
`finops dashboard --host <non-loopback>` is refused unless an authenticating proxy is declared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.dashboard import cli
from finops_platform_tests.conftest import WriteConfig, tenant_entry

FINOPS = str(Path(sys.executable).parent / "finops")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "dashboard.example.com"])
def test_a_non_loopback_host_is_refused_as_a_user_runs_it(
    host: str, finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config([tenant_entry("tenant_alpha", tmp_path / "a")])
    done = subprocess.run(
        [FINOPS, "dashboard", "--host", host, "--port", "8612"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert f"--host {host} is not a loopback address" in line
    assert "--behind-auth-proxy" in line
    assert done.stdout == ""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the command `finops dashboard` would start instead of starting it."""
    calls: list[list[str]] = []

    def fake_run(command: list[str], _environment: dict[str, str]) -> int:
        calls.append(command)
        return 0

    monkeypatch.setattr(cli, "run_until_stopped", fake_run)
    monkeypatch.setitem(main.commands, "dashboard", cli.dashboard)
    return calls


@pytest.mark.parametrize(
    ("args", "address"),
    [
        ([], "127.0.0.1"),
        (["--host", "localhost"], "localhost"),
        (["--host", "::1"], "::1"),
        (["--host", "0.0.0.0", "--behind-auth-proxy"], "0.0.0.0"),
    ],
)
def test_loopback_or_a_declared_auth_proxy_binds_where_asked(
    args: list[str],
    address: str,
    started: list[list[str]],
    finops_home: Path,
    write_config: WriteConfig,
    tmp_path: Path,
) -> None:
    write_config([tenant_entry("tenant_alpha", tmp_path / "a")])
    result = CliRunner().invoke(main, ["dashboard", *args])
    assert result.exit_code == 0, result.output
    ((command,),) = [started]
    assert command[command.index("--server.address") + 1] == address
    assert command[command.index("--browser.serverAddress") + 1] == address
