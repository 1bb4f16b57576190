"""Bad config and input (issue 7) through the CLI: clear one-line errors, exit code 2, and SQL
that a hostile config value cannot change. (Each config field's validation is in
test_settings.py.)"""

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.sample import generate_month
from finops_platform_tests.conftest import WriteConfig, tenant_entry

HOSTILE_TAG = "team'); DROP TABLE x; --"


def finops(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-01", "2026/01", "", "next month"])
def test_malformed_months_are_refused(finops_home: Path, month: str) -> None:
    code, output = finops("run", "--month", month)
    assert code == 2
    assert "is not a month; use YYYY-MM" in output


def test_a_month_before_the_tenants_first_billing_month_is_refused_by_name(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(
        [
            tenant_entry("old", tmp_path / "old", first_billing_month="2026-01"),
            tenant_entry("newbie", tmp_path / "new", first_billing_month="2026-06"),
        ]
    )
    code, output = finops("run", "--tenant", "newbie", "--month", "2026-03")
    assert code == 2
    assert "newbie 2026-03 (its months: 2026-06.." in output
    assert "first_billing_month" in output


def test_an_unknown_environment_is_named(finops_home: Path) -> None:
    code, output = finops("--env", "qa", "tenant", "list")
    assert code == 2
    assert "error: unknown environment 'qa'" in output and "dev, prod, staging" in output


def test_an_invalid_config_fails_every_command_with_the_tenant_and_field(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config([tenant_entry("../x", tmp_path / "a")])
    for command in (["config", "validate"], ["tenant", "list"], ["run"], ["sla"]):
        code, output = finops(*command)
        assert code == 2, command
        assert "field org_id: '../x' does not match" in output


def test_a_hostile_tag_key_is_a_value_not_sql(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config([tenant_entry("acme", tmp_path / "a", cost_allocation_tags=[HOSTILE_TAG])])
    generate_month(tmp_path / "a", month=dt.date(2026, 9, 1), rows=800, fmt="cur2", seed=1)
    code, output = finops("run", "--tenant", "acme", "--month", "2026-09")
    assert code == 0, output
    code, output = finops(
        "query",
        "--tenant",
        "acme",
        "--format",
        "json",
        "SELECT DISTINCT tag_key, tag_value FROM cost_by_tag WHERE year = 2026 AND month = 9",
    )
    assert json.loads(output) == [{"tag_key": HOSTILE_TAG, "tag_value": "(untagged)"}]
