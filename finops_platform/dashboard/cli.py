"""`finops dashboard`: start the Streamlit app on 127.0.0.1, offline, as a child process.

The app has no authentication of its own, so `--host` with a non-loopback address is refused
unless `--behind-auth-proxy` says an authenticating reverse proxy is the only way in (README,
"Production").

Registered on the `finops` group (`main.add_command(dashboard)`); it takes the group's `--config`
and `--env` and hands them to the app as CONFIG_PATH / ENVIRONMENT, with the tenant scope in
FINOPS_DASHBOARD_TENANT. The child gets this process's SIGTERM / SIGINT / SIGHUP, so stopping
this process by its PID stops the server too.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from finops_platform.core import ConfigError
from finops_platform.dashboard.scope import TENANT_ENV
from finops_platform.resources import settings_from
from finops_platform.settings import Settings

APP = Path(__file__).resolve().parent / "app.py"
HOST = "127.0.0.1"
# Offline and quiet: no usage statistics, no file watcher, no browser opened.
STREAMLIT_OPTIONS = {
    "server.headless": "true",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "global.developmentMode": "false",
    "client.toolbarMode": "viewer",
}


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (`localhost` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to any interface


def streamlit_command(port: int, host: str = HOST) -> list[str]:
    """`python -m streamlit run app.py` with the options above, on `host`:`port`."""
    options = {
        **STREAMLIT_OPTIONS,
        "server.address": host,
        "server.port": str(port),
        "browser.serverAddress": host,
        "browser.serverPort": str(port),
    }
    flags = [part for name, value in options.items() for part in (f"--{name}", value)]
    return [sys.executable, "-m", "streamlit", "run", str(APP), *flags]


def streamlit_environment(
    base: Mapping[str, str], settings: Settings, org_id: str | None
) -> dict[str, str]:
    """The app's environment: the settings this command resolved, and the tenant scope."""
    environment = {
        **base,
        "CONFIG_PATH": str(settings.config_path.resolve()),
        "ENVIRONMENT": settings.environment.name,
        "FINOPS_HOME": str(settings.finops_home),
        "DAGSTER_HOME": str(settings.dagster_home),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    environment.pop(TENANT_ENV, None)
    if org_id:
        environment[TENANT_ENV] = org_id
    return environment


def run_until_stopped(command: list[str], environment: dict[str, str]) -> int:
    """Run the server; forward stop signals to it; its exit code."""
    process = subprocess.Popen(command, env=environment)

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    stop_signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {signum: signal.signal(signum, forward) for signum in stop_signals}
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@click.command("dashboard")
@click.option(
    "--tenant",
    "org_id",
    metavar="ORG",
    help="show only this tenant, isolated like `finops query --tenant` (default: the central "
    "view: the cross-org table and a tenant selector)",
)
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535), metavar="N")
@click.option(
    "--host",
    default=HOST,
    show_default=True,
    help="address to bind; a non-loopback one needs --behind-auth-proxy",
)
@click.option(
    "--behind-auth-proxy",
    is_flag=True,
    help="allow a non-loopback --host: an authenticating reverse proxy (single sign-on) is the "
    "only way to reach it (README, Production)",
)
@click.pass_context
def dashboard(
    ctx: click.Context, org_id: str | None, port: int, host: str, behind_auth_proxy: bool
) -> None:
    """Start the FinOps dashboard (Streamlit) on http://127.0.0.1:N until stopped."""
    if not is_loopback(host) and not behind_auth_proxy:
        click.echo(
            f"error: --host {host} is not a loopback address and the dashboard has no "
            "authentication; bind it to 127.0.0.1 behind an authenticating proxy, or pass "
            f"--behind-auth-proxy if one is the only way to reach {host}",
            err=True,
        )
        sys.exit(2)
    # The `finops` group's `finops_platform.cli.Context` (absent when run on its own).
    config, env = getattr(ctx.obj, "config", None), getattr(ctx.obj, "env", None)
    try:
        settings = settings_from(config, env)
        if org_id:
            settings.tenants.get(org_id)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    scope = f"tenant {org_id}" if org_id else "central view, all tenants"
    click.echo(f"FinOps dashboard ({scope}) on http://{host}:{port}; Ctrl+C stops it", err=True)
    sys.exit(
        run_until_stopped(
            streamlit_command(port, host), streamlit_environment(os.environ, settings, org_id)
        )
    )
