"""cost_anomalies and cost_forecast on shaped demo months (injected anomalies with ground
truth): the injected days are found with their drivers, a restatement withdraws what it
removed, budgets warn and fail, and the checks reach a real local Slack receiver with the
tenant's owners and a link to the asset."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.partitions import PARTITION_TAG, RANGE_START_TAG
from finops_platform.lib.anomalies.budgets import judge_budgets
from finops_platform.lib.anomalies.forecast import Forecast
from finops_platform.sample import generate_month
from finops_platform.sample.shape import TrueAnomaly
from finops_platform.settings import Budget, load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.alerts import alert_for_run
from finops_platform_tests.support.materialize import check_tally, load, query
from finops_platform_tests.support.slack_receiver import SlackReceiver

MONTHS = [dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
OCTOBER = MONTHS[-1]
SETTINGS = {"min_impact": 10, "min_impact_pct": 15}
OWNER = "finops-acme@example.com"
OCTOBER_ANOMALIES = (
    "SELECT usage_date, level, key, impact, impact_pct, drivers, status FROM cost_anomalies "
    "WHERE year = 2026 AND month = 10"
)


def deliver(source: Path, month: dt.date, until: dt.datetime | None = None) -> list[TrueAnomaly]:
    delivery = generate_month(
        source,
        month=month,
        rows=20_000,
        fmt="cur2",
        seed=11,
        name="acme-cur",
        until=until,
        shape_span=(MONTHS[0], MONTHS[-1]),
    )
    return delivery.anomalies or []


@pytest.fixture
def truth(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> list[TrueAnomaly]:
    """Three shaped months of tenant acme, loaded; October's injected anomalies."""
    source = tmp_path / "acme"
    budgets = [
        {"name": "tiny", "amount": 100, "actual_thresholds": [80, 100]},
        {"name": "roomy", "amount": 10_000_000},
        {"name": "ec2", "scope": "service", "key": "AmazonEC2", "amount": 10_000_000},
    ]
    write_config(
        [
            tenant_entry(
                "acme",
                source,
                cur_format="cur2",
                first_billing_month="2026-08",
                owners=[OWNER],
                anomaly=SETTINGS,
                budgets=budgets,
            )
        ]
    )
    found = [deliver(source, month) for month in MONTHS][-1]
    loaded = load(["acme"], MONTHS)
    # Every run succeeds; the budget `tiny` is overrun, an ERROR check of the report.
    assert all(r.success for r in loaded.reports), loaded.reports
    return found


def reportable(truth: list[TrueAnomaly]) -> list[TrueAnomaly]:
    """The injected anomalies whose impact reaches the tenant's minimums."""
    return [
        a
        for a in truth
        if a.impact >= SETTINGS["min_impact"]
        and (a.expected == 0 or 100 * a.impact / a.expected >= SETTINGS["min_impact_pct"])
    ]


def test_injected_anomalies_are_found_on_their_day_with_drivers(
    truth: list[TrueAnomaly],
) -> None:
    rows = query("acme", OCTOBER_ANOMALIES)
    found = {(str(r["usage_date"]), r["level"], r["key"]): r for r in rows}
    expected = reportable(truth)
    assert {a.kind for a in expected} >= {"spike", "new_service"}
    for anomaly in expected:
        row = found[(anomaly.day, anomaly.level, anomaly.key)]
        assert row["status"] == "new"
        assert row["impact"] == pytest.approx(anomaly.impact, rel=0.35)
    (total,) = [r for a in expected if a.level == "total" for r in [found[(a.day, "total", "")]]]
    assert total["drivers"].startswith(("service=", "account=", "usage_type="))
    assert "%)" in total["drivers"]


def test_a_restatement_withdraws_the_anomalies_it_removed(
    truth: list[TrueAnomaly], tmp_path: Path
) -> None:
    before = {
        (str(r["usage_date"]), r["level"], r["key"]) for r in query("acme", OCTOBER_ANOMALIES)
    }
    # October restated as delivered up to the 15th (complete): the anomalies after it are gone.
    deliver(tmp_path / "acme", OCTOBER, until=dt.datetime(2026, 10, 16))
    assert all(r.success for r in load(["acme"], [OCTOBER]).reports)
    after = query("acme", OCTOBER_ANOMALIES)
    status = {(str(r["usage_date"]), r["level"], r["key"]): r["status"] for r in after}
    assert set(status) == before
    for (day, _, _), state in status.items():
        assert state == ("withdrawn" if day >= "2026-10-16" else "continuing"), day
    assert "withdrawn" in status.values() and "continuing" in status.values()


def test_forecast_of_a_month_to_date_is_near_the_month_end(
    truth: list[TrueAnomaly], tmp_path: Path
) -> None:
    actual_sql = (
        "SELECT forecast, lower, upper, complete_days FROM cost_forecast "
        "WHERE year = 2026 AND month = 10 AND level = 'total'"
    )
    ((closed),) = query("acme", actual_sql)
    assert closed["complete_days"] == 31 and closed["lower"] == closed["forecast"]
    deliver(tmp_path / "acme", OCTOBER, until=dt.datetime(2026, 10, 15, 6))
    assert all(r.success for r in load(["acme"], [OCTOBER]).reports)
    (open_month,) = query("acme", actual_sql)
    assert open_month["complete_days"] == 14  # the 15th is still being delivered
    assert open_month["forecast"] == pytest.approx(closed["forecast"], rel=0.15)
    assert open_month["lower"] < open_month["forecast"] < open_month["upper"]


def test_budgets_and_new_anomalies_reach_slack_with_owners_and_a_link(
    truth: list[TrueAnomaly], slack: SlackReceiver
) -> None:
    settings = load_settings()
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.get()
    (run,) = instance.get_runs(
        filters=dg.RunsFilter(tags={RANGE_START_TAG: f"{MONTHS[0]}|acme"}), limit=1
    ) or instance.get_runs(filters=dg.RunsFilter(tags={PARTITION_TAG: f"{OCTOBER}|acme"}), limit=1)
    alert_for_run(defs, instance, run)
    texts = slack.texts()
    october = [t for t in texts if "tenant acme, month 2026-10" in t]
    anomalies = next(t for t in october if "new_cost_anomalies" in t)
    assert anomalies.startswith(":rotating_light: [WARN]")
    assert "new cost anomalies" in anomalies and "drivers: " in anomalies
    assert f"owners: {OWNER}" in anomalies
    assert "/assets/cost_anomalies?view=checks" in anomalies
    actual = next(t for t in october if "check budget_actual" in t)
    assert actual.startswith(":rotating_light: [ERROR]") and "budget tiny (tenant)" in actual
    assert "budget roomy" not in actual and "/assets/cost_forecast?view=checks" in actual
    assert any("check budget_forecast" in t and "[ERROR]" in t for t in october)


def test_the_tenant_month_run_has_the_three_new_checks(truth: list[TrueAnomaly]) -> None:
    report = load(["acme"], [OCTOBER]).report("acme", OCTOBER)
    _, total, failed = check_tally(report)
    assert total == 17  # 13 before, the 3 of cost_anomalies/cost_forecast, workloads_add_up
    # The second load finds no new anomaly: the month's are known (continuing).
    assert failed == ["budget_actual ERROR", "budget_forecast ERROR"]


def forecast_row(level: str, key: str, actual: float, forecast: float) -> Forecast:
    return Forecast(level, key, 14, 30, actual, forecast, forecast, forecast, forecast)


@pytest.mark.parametrize(
    ("actual", "forecast", "expected"),
    [(500, 700, ("ok", "ok")), (850, 950, ("warn", "warn")), (900, 1200, ("warn", "error"))],
)
def test_budgets_warn_at_the_first_threshold_and_fail_past_100(
    actual: float, forecast: float, expected: tuple[str, str]
) -> None:
    budget = Budget(name="rds", scope="service", key="AmazonRDS", amount=1000)
    rows = [forecast_row("service", "AmazonRDS", actual, forecast)]
    rows.append(forecast_row("service", "AmazonEC2", 10_000, 10_000))  # another service's
    (on_actual,) = judge_budgets([budget], rows, "USD", on_forecast=False)
    (on_forecast,) = judge_budgets([budget], rows, "USD", on_forecast=True)
    assert (on_actual.verdict, on_forecast.verdict) == expected


def test_a_budget_in_another_currency_is_an_error() -> None:
    budget = Budget(name="eu", amount=1000, currency="EUR")
    (state,) = judge_budgets([budget], [forecast_row("total", "", 10, 10)], "USD", False)
    assert state.verdict == "error" and "not the budget's currency" in state.describe("cost")
