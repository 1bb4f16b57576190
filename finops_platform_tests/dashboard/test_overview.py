"""Overview page: the figures shown equal the curated tables (cost_daily; the top services and
accounts, read from cost_monthly_summary and cost_cross_org_monthly, equal cost_daily's), for one
tenant and for all tenants side by side."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from finops_platform.dashboard.frames import format_change
from finops_platform_tests.dashboard.conftest import AUGUST, SEPTEMBER, Generated
from finops_platform_tests.dashboard.shown import cents, metric, money, no_exceptions, table

MONTHS_SQL = """
SELECT billing_period, sum(unblended_cost) AS unblended, sum(amortized_cost) AS amortized,
    sum(net_amortized_cost) AS net, sum(line_items) AS line_items
FROM cost_daily WHERE year = 2026 AND month IN (8, 9) GROUP BY billing_period
"""
DAILY_SQL = """
SELECT usage_date, sum(unblended_cost) AS unblended, sum(amortized_cost) AS amortized
FROM cost_daily WHERE year = 2026 AND month = {month} GROUP BY usage_date
"""
# Each key's September and August amortized cost, straight from cost_daily.
BY_KEY_SQL = """
SELECT {key} AS key, sum(CASE WHEN month = 9 THEN amortized_cost END) AS amortized,
    sum(CASE WHEN month = 8 THEN amortized_cost END) AS previous
FROM cost_daily WHERE year = 2026 AND month IN (8, 9) GROUP BY {key}
"""


def test_tenant_overview_shows_cost_daily_and_the_monthly_summary(app, generated: Generated):
    at = no_exceptions(app("tenant_beta").run())
    months = {r["billing_period"]: r for r in generated.query("tenant_beta", MONTHS_SQL)}
    september, august = months[SEPTEMBER], months[AUGUST]

    assert metric(at, "Unblended cost")[0] == money(september["unblended"])
    assert metric(at, "Net amortized cost")[0] == money(september["net"])
    assert metric(at, "Line items")[0] == f"{september['line_items']:,}"
    change = september["amortized"] - august["amortized"]
    assert metric(at, "Amortized cost") == (
        money(september["amortized"]),
        format_change(cents(change), cents(august["amortized"])),
    )
    assert len(at.get("vega_lite_chart")) >= 2  # cost per day, cost per month

    daily = table(at, "usage_date", "unblended_cost", "amortized_cost")
    expected_daily = generated.query("tenant_beta", DAILY_SQL.format(month=9))
    assert {(r.usage_date, r.unblended_cost, r.amortized_cost) for r in daily.itertuples()} == {
        (r["usage_date"], cents(r["unblended"]), cents(r["amortized"])) for r in expected_daily
    }
    monthly = table(at, "billing_period", "unblended_cost", "amortized_cost")
    assert sorted(
        (r.billing_period, r.amortized_cost, int(r.line_items)) for r in monthly.itertuples()
    ) == sorted((m, cents(r["amortized"]), int(r["line_items"])) for m, r in months.items())

    for key, column in (("product_code", "service"), ("account_id", "account_id")):
        shown = table(at, column, "amortized_cost")
        expected = generated.query("tenant_beta", BY_KEY_SQL.format(key=key))
        for row in expected:
            row["amortized"] = row["amortized"] or Decimal(0)  # gone this month
        expected.sort(key=lambda r: (-r["amortized"], r["key"]))
        top = expected[:10]
        assert list(shown[column]) == [r["key"] for r in top]
        assert list(shown.amortized_cost) == [cents(r["amortized"]) for r in top]
        assert list(shown.previous_amortized_cost) == [
            cents(r["previous"]) if r["previous"] is not None else None for r in top
        ]
        assert list(shown.amortized_change) == [
            cents(r["amortized"] - (r["previous"] or 0)) for r in top
        ]


def test_choosing_another_month_shows_that_month(app, generated: Generated):
    at = no_exceptions(app("tenant_alpha").run())
    assert at.selectbox(key="month").options == ["2026-09", "2026-08"]
    no_exceptions(at.selectbox(key="month").set_value("2026-08").run())
    months = {r["billing_period"]: r for r in generated.query("tenant_alpha", MONTHS_SQL)}
    assert at.title[0].value == "Overview: tenant_alpha, 2026-08"
    assert metric(at, "Amortized cost") == (money(months[AUGUST]["amortized"]), "")
    assert metric(at, "Net amortized cost")[0] == "n/a"  # legacy CUR without net columns


def test_all_tenants_side_by_side_equal_each_tenants_curated_totals(app, generated: Generated):
    at = no_exceptions(app().run())
    assert at.selectbox(key="tenant").value == "All tenants"
    per_tenant = {
        org: {r["billing_period"]: r for r in generated.query(org, MONTHS_SQL)}
        for org in ("tenant_alpha", "tenant_beta", "tenant_stale")
    }
    september = {org: m[SEPTEMBER] for org, m in per_tenant.items() if SEPTEMBER in m}
    assert sorted(september) == ["tenant_alpha", "tenant_beta"]

    total = sum((r["amortized"] for r in september.values()), Decimal(0))
    assert metric(at, "Amortized cost, all tenants")[0] == money(total)
    unblended = sum((r["unblended"] for r in september.values()), Decimal(0))
    assert metric(at, "Unblended cost, all tenants")[0] == money(unblended)
    assert metric(at, "Tenants")[0] == "2"

    side = table(at, "org", "unblended_cost", "amortized_cost").set_index("org")
    for org, row in september.items():
        previous = per_tenant[org][AUGUST]["amortized"]
        assert side.loc[org, "amortized_cost"] == cents(row["amortized"])
        assert side.loc[org, "previous_amortized_cost"] == cents(previous)
        assert side.loc[org, "amortized_change"] == cents(row["amortized"] - previous)

    daily = table(at, "usage_date", "org", "unblended_cost", "amortized_cost")
    expected = {
        (r["usage_date"], org, cents(r["amortized"]))
        for org in september
        for r in generated.query(org, DAILY_SQL.format(month=9))
    }
    assert {(r.usage_date, r.org, r.amortized_cost) for r in daily.itertuples()} == expected

    services: dict[str, Decimal] = defaultdict(Decimal)
    for org in september:
        for r in generated.query(org, BY_KEY_SQL.format(key="product_code")):
            services[r["key"]] += r["amortized"] or 0
    top = sorted(services.items(), key=lambda item: (-item[1], item[0]))[:10]
    shown = table(at, "service", "amortized_cost")
    assert list(zip(shown.service, shown.amortized_cost, strict=True)) == [
        (service, cents(amount)) for service, amount in top
    ]
