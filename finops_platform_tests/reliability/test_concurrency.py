"""Concurrency (issue 7): runs of two tenants at once, of two months of one tenant at once, and a
restatement landing while the curated tables are being built: every total stays exact."""

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.common.partitions import partition_key
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry

FINOPS = Path(sys.executable).with_name("finops")
AUGUST, SEPTEMBER = dt.date(2026, 8, 1), dt.date(2026, 9, 1)


def totals(org: str, month: dt.date) -> tuple[int, Decimal]:
    sql = (
        "SELECT sum(line_items) AS n, CAST(sum(unblended_cost) AS VARCHAR) AS cost FROM cost_daily "
        f"WHERE year = {month.year} AND month = {month.month}"
    )
    result = CliRunner().invoke(main, ["query", "--tenant", org, "--format", "json", sql])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    return row["n"], Decimal(row["cost"])


def run_at_once(*commands: list[str]) -> None:
    processes = [
        subprocess.Popen(
            [str(FINOPS), *command],
            env=os.environ.copy(),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for command in commands
    ]
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output


def expect(delivery: GeneratedDelivery, org: str) -> None:
    assert totals(org, delivery.month) == (delivery.rows, delivery.unblended_total)


def test_two_tenants_at_the_same_time(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry(org, tmp_path / org) for org in ("alpha", "beta")])
    alpha = generate_month(tmp_path / "alpha", month=SEPTEMBER, rows=20_000, fmt="legacy", seed=1)
    beta = generate_month(tmp_path / "beta", month=SEPTEMBER, rows=20_000, fmt="cur2", seed=2)
    run_at_once(
        ["run", "--tenant", "alpha", "--month", "2026-09"],
        ["run", "--tenant", "beta", "--month", "2026-09"],
    )
    expect(alpha, "alpha")
    expect(beta, "beta")


def test_two_months_of_one_tenant_at_the_same_time(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config([tenant_entry("alpha", tmp_path / "alpha")])
    deliveries = [
        generate_month(tmp_path / "alpha", month=month, rows=20_000, fmt="legacy", seed=3)
        for month in (AUGUST, SEPTEMBER)
    ]
    run_at_once(
        ["run", "--tenant", "alpha", "--month", "2026-08"],
        ["run", "--tenant", "alpha", "--month", "2026-09"],
    )
    for delivery in deliveries:
        expect(delivery, "alpha")


def test_a_restatement_landing_while_curated_tables_are_built(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    """Curated tables read the registered raw month, never the source: a delivery that lands
    meanwhile changes nothing until it is loaded, and then everything follows it."""
    source = tmp_path / "alpha"
    write_config([tenant_entry("alpha", source)])
    first = generate_month(source, month=SEPTEMBER, rows=5000, fmt="legacy", seed=4)
    defs = build_definitions(load_settings())
    key = partition_key("alpha", SEPTEMBER)

    def materialize(*groups: str) -> None:
        result = dg.materialize(
            assets=list(defs.assets or []),
            resources=defs.resources,
            instance=dg.DagsterInstance.get(),
            partition_key=key,
            selection=dg.AssetSelection.groups(*groups),
        )
        assert result.success
        failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
        assert failed == []

    materialize("raw", "catalog")
    restated = generate_month(source, month=SEPTEMBER, rows=7000, fmt="legacy", seed=5)
    materialize("curated")  # reconciles with the registered raw month
    expect(first, "alpha")
    materialize("raw", "catalog", "curated")
    expect(restated, "alpha")
