"""Tenant owners: validated as Dagster wants them, shown on the tenant's check and sensor, and
named in the tenant's Slack alerts (through the real local Slack receiver)."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from finops_platform.core import ConfigError
from finops_platform.definitions import build_definitions
from finops_platform.defs.arrivals.sensors import arrival_sensor_name
from finops_platform.defs.common.partitions import PARTITION_TAG
from finops_platform.defs.freshness.checks import freshness_check_name
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings, parse_tenants
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.defs.test_alerts import freshness_run_then_alert
from finops_platform_tests.support.alerts import alert_for_run
from finops_platform_tests.support.materialize import load
from finops_platform_tests.support.slack_receiver import SlackReceiver

OWNERS = ["finops-beta@example.com", "team:finops"]
NOTE = "owners: finops-beta@example.com, team:finops"


@pytest.mark.parametrize("owner", ["#finops-alerts", "bob", "team:", "bob@localhost"])
def test_an_owner_dagster_would_refuse_is_a_config_error_naming_tenant_and_field(
    owner: str,
) -> None:
    entry = tenant_entry("beta", "/data/beta", owners=["ok@example.com", owner])
    with pytest.raises(ConfigError) as error:
        parse_tenants(json.dumps([entry]), "tenants.json")
    (line,) = str(error.value).splitlines()[1:]
    assert line == (
        f"  - tenant 'beta' (entry 1), field owners.1: {owner!r} is not an owner Dagster "
        "accepts: write an email address (finops@example.com) or a team name prefixed with "
        "'team:' (team:finops)"
    )


@pytest.fixture
def beta(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    source = tmp_path / "beta"
    write_config(
        [
            tenant_entry(
                "beta", source, sla_hours=12, first_billing_month="2026-10", owners=OWNERS
            ),
            tenant_entry("gamma", tmp_path / "gamma", first_billing_month="2026-10"),
        ]
    )
    until = dt.datetime(2026, 11, 20, 10)  # the last usage hour is 09:00
    generate_month(source, month=dt.date(2026, 11, 1), rows=2000, fmt="cur2", seed=4, until=until)
    assert load(["beta"], [dt.date(2026, 11, 1)]).ok
    return source


def test_owners_are_on_the_tenants_check_and_sensor(beta: Path) -> None:
    defs = build_definitions(load_settings())
    sensor = defs.resolve_sensor_def(arrival_sensor_name("beta"))
    assert list(sensor.owners or []) == OWNERS
    assert not defs.resolve_sensor_def(arrival_sensor_name("gamma")).owners
    checks = {
        spec.name: spec for checks_def in defs.asset_checks or [] for spec in checks_def.check_specs
    }
    assert checks[freshness_check_name("beta")].metadata["owners"] == ", ".join(OWNERS)
    assert "owners" not in checks[freshness_check_name("gamma")].metadata


def test_a_failed_check_names_the_tenants_owners(beta: Path, slack: SlackReceiver) -> None:
    freshness_run_then_alert(dt.datetime(2026, 11, 21, 3))  # 17 h > 12 h: beta breaches
    texts = slack.texts()
    (breach,) = [t for t in texts if "freshness_sla_beta" in t]
    assert NOTE in breach
    # gamma has no delivery (it breaches too) and no owners: its alert names none.
    (other,) = [t for t in texts if "freshness_sla_gamma" in t]
    assert "owners:" not in other


def test_a_failed_run_of_a_tenants_partition_names_its_owners(
    beta: Path, slack: SlackReceiver
) -> None:
    october = dt.date(2026, 10, 1)
    assert not load(["beta"], [october]).report("beta", october).success  # never delivered
    instance = dg.DagsterInstance.get()
    (run,) = instance.get_runs(
        filters=dg.RunsFilter(tags={PARTITION_TAG: "2026-10-01|beta"}), limit=1
    )
    alert_for_run(build_definitions(load_settings()), instance, run)
    (message,) = slack.texts()
    assert "tenant beta, month 2026-10 failed" in message
    assert message.endswith(NOTE)
