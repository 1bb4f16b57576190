"""Freshness SLA per tenant: breaches when data stops arriving, recovers when it arrives.

The clock is pinned: `build_definitions(settings, now=...)` for the scheduled checks, and
`finops sla --at ...` for the CLI.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.freshness.schedules import FRESHNESS_JOB
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load

MONTH = dt.date(2026, 11, 1)
SCHEDULE = "freshness_sla_every_5_minutes"


def deliver_until(source: Path, until: dt.datetime) -> None:
    generate_month(source, month=MONTH, rows=3000, fmt="cur2", seed=3, until=until)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def tenants(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> dict[str, Path]:
    """alpha (SLA 24 h) and beta (SLA 12 h), both delivered up to 2026-11-20 10:00."""
    sources = {"alpha": tmp_path / "alpha", "beta": tmp_path / "beta"}
    write_config(
        [
            tenant_entry("alpha", sources["alpha"], sla_hours=24, first_billing_month="2026-10"),
            tenant_entry("beta", sources["beta"], sla_hours=12, first_billing_month="2026-10"),
        ]
    )
    for source in sources.values():
        deliver_until(source, dt.datetime(2026, 11, 20, 10))
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    return sources


def scheduled_verdicts(now: dt.datetime) -> dict[str, dict]:
    """What the schedule's tick launches, executed with the clock pinned at `now`."""
    defs = build_definitions(load_settings(), now=now)
    schedule = defs.resolve_schedule_def(SCHEDULE)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    instance = dg.DagsterInstance.get()
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=now) as context:
        (request,) = schedule.evaluate_tick(context).run_requests
    assert schedule.job_name == FRESHNESS_JOB
    result = defs.resolve_job_def(FRESHNESS_JOB).execute_in_process(
        instance=instance, tags=request.tags
    )
    assert result.success
    return {
        e.check_name.removeprefix("freshness_sla_"): {
            "passed": e.passed,
            **{k: v.value for k, v in e.metadata.items()},
        }
        for e in result.get_asset_check_evaluations()
    }


def sla_cli(at: str) -> tuple[int, dict[str, dict]]:
    code, output = run("sla", "--format", "json", "--at", at)
    return code, {row["tenant"]: row for row in json.loads(output)}


def test_the_schedule_breaches_each_tenant_after_its_sla_and_recovers(
    tenants: dict[str, Path],
) -> None:
    # Last usage hour 2026-11-20 09:00.
    fresh = scheduled_verdicts(dt.datetime(2026, 11, 20, 12))
    assert {org: v["status"] for org, v in fresh.items()} == {"alpha": "OK", "beta": "OK"}
    assert fresh["beta"]["hours_lag"] == 3.0

    later = scheduled_verdicts(dt.datetime(2026, 11, 21, 0))  # 15 h: beta's 12 h SLA is gone
    assert {org: v["status"] for org, v in later.items()} == {"alpha": "OK", "beta": "SLA_BREACH"}
    assert not later["beta"]["passed"] and later["beta"]["hours_lag"] == 15.0

    stale = scheduled_verdicts(dt.datetime(2026, 11, 21, 10))  # 25 h: both breach
    assert {v["status"] for v in stale.values()} == {"SLA_BREACH"}

    deliver_until(tenants["beta"], dt.datetime(2026, 11, 21, 9))  # data arrives again
    loaded = load(["beta"], [MONTH])
    assert loaded.ok, loaded.reports
    recovered = scheduled_verdicts(dt.datetime(2026, 11, 21, 10))
    assert recovered["beta"]["status"] == "OK" and recovered["beta"]["hours_lag"] == 2.0
    assert recovered["alpha"]["status"] == "SLA_BREACH"


def test_finops_sla_reports_every_tenant_and_exits_non_zero_on_a_breach(
    tenants: dict[str, Path],
) -> None:
    code, rows = sla_cli("2026-11-20T12:00")
    assert code == 0
    assert rows["alpha"]["last_usage_start"] == "2026-11-20T09:00:00"
    assert (rows["alpha"]["sla_hours"], rows["beta"]["sla_hours"]) == (24, 12)

    code, rows = sla_cli("2026-11-21T00:00")
    assert code == 1
    assert rows["beta"]["status"] == "SLA_BREACH" and rows["alpha"]["status"] == "OK"


def test_a_tenant_never_loaded_breaches_from_the_month_start(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config([tenant_entry("quiet", tmp_path / "nothing", sla_hours=24)])
    code, rows = sla_cli("2026-11-01T23:00")
    assert code == 0 and rows["quiet"]["hours_lag"] == 23.0
    code, rows = sla_cli("2026-11-02T01:00")
    assert code == 1 and rows["quiet"]["last_usage_start"] is None


def test_a_month_start_without_new_data_keeps_a_stale_tenant_in_breach(
    tenants: dict[str, Path],
) -> None:
    # December has no rows yet: the lag still counts from the last usage hour, 2026-11-20 09:00,
    # not from 2026-12-01 00:00 (which made a stale tenant "recover" at every month start).
    at_month_start = dt.datetime(2026, 12, 1, 0, 5)
    verdicts = scheduled_verdicts(at_month_start)
    assert {org: v["status"] for org, v in verdicts.items()} == {
        "alpha": "SLA_BREACH",
        "beta": "SLA_BREACH",
    }
    assert not verdicts["beta"]["passed"] and verdicts["beta"]["hours_lag"] == 255.08
    assert verdicts["beta"]["last_usage_start"] == "2026-11-20 09:00:00"

    code, rows = sla_cli(at_month_start.isoformat())
    assert code == 1
    assert rows["beta"]["status"] == "SLA_BREACH" and rows["beta"]["hours_lag"] == 255.08
    assert rows["beta"]["last_usage_start"] == "2026-11-20T09:00:00"
    assert rows["beta"]["month"] == "2026-12"
