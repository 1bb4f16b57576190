"""Anomalies & forecast page: the anomaly list and the forecast are cost_anomalies' and
cost_forecast's rows of the month, and the page asks for a tenant in the all-tenants view."""

from __future__ import annotations

import datetime as dt

from finops_platform_tests.dashboard.conftest import Generated
from finops_platform_tests.dashboard.shown import chart_frames, metric, money, no_exceptions, table

PAGE = "views/anomalies.py"
FORECAST = (
    "SELECT actual_to_date, forecast FROM cost_forecast "
    "WHERE year = 2026 AND month = 9 AND level = 'total'"
)
ANOMALIES = (
    "SELECT usage_date, level, key FROM cost_anomalies "
    "WHERE year = 2026 AND month = 9 AND status <> 'withdrawn'"
)


def test_tenant_page_shows_the_forecast_and_the_anomalies(app, generated: Generated) -> None:
    at = app("tenant_alpha").run()
    at = no_exceptions(at.switch_page(PAGE).run())
    (total,) = generated.query("tenant_alpha", FORECAST)
    assert metric(at, "Month-end forecast")[0] == money(total["forecast"])
    assert metric(at, "Cost so far")[0] == money(total["actual_to_date"])
    expected = {
        (r["usage_date"], r["level"], r["key"]) for r in generated.query("tenant_alpha", ANOMALIES)
    }
    if expected:
        shown = table(at, "usage_date", "level", "key")
        assert set(zip(shown.usage_date, shown.level, shown.key, strict=True)) == expected
    else:
        assert any("No cost anomaly this month" in i.value for i in at.info)
    assert any(s.value == "Forecast to month end" for s in at.subheader)


def test_the_daily_chart_draws_the_band_on_every_judged_day(app, generated: Generated) -> None:
    """Not only on anomaly days: each complete day with enough history has its expected cost
    and band (from the model cost_anomalies judges by)."""
    at = no_exceptions(app("tenant_alpha").run().switch_page(PAGE).run())
    assert any(s.value == "Daily usage cost, expected band and anomaly days" for s in at.subheader)
    (chart,) = [c for c in chart_frames(at) if "band top" in c.columns]
    judged = chart.dropna(subset=["expected"])
    # August is loaded as history: every complete day of September shown has its band; the
    # month-to-date day (NOW is September 30, noon) has none.
    assert chart.index[chart["expected"].isna()].tolist() == [dt.date(2026, 9, 30)]
    assert len(judged) >= 28
    assert (judged["band bottom"] <= judged["expected"]).all()
    assert (judged["expected"] <= judged["band top"]).all()


def test_all_tenants_view_asks_for_a_tenant(app, generated: Generated) -> None:
    at = app().run()
    at = no_exceptions(at.switch_page(PAGE).run())
    assert any("choose a tenant" in i.value for i in at.info)
