"""Commitments page: Reserved Instance and Savings Plans figures equal those derived, here, from
cost_daily's line item types (covered usage, effective cost, unused commitment, fees)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from finops_platform_tests.dashboard.conftest import SEPTEMBER, Generated
from finops_platform_tests.dashboard.shown import cents, metric, money, no_exceptions, table

TYPES_SQL = """
SELECT billing_period, line_item_type, usage_type, sum(unblended_cost) AS unblended,
    sum(amortized_cost) AS amortized, sum(coalesce(public_cost, 0)) AS public
FROM cost_daily WHERE year = 2026 AND month IN (8, 9)
GROUP BY billing_period, line_item_type, usage_type
"""
RI, SP = "Reserved Instances", "Savings Plans"


def expected(generated: Generated, org: str) -> dict[tuple[dt.date, str], dict[str, Decimal]]:
    """Per month and commitment kind, computed from the line item types of cost_daily."""
    out: dict = defaultdict(lambda: defaultdict(Decimal))
    for r in generated.query(org, TYPES_SQL):
        kind, month = r["line_item_type"], r["billing_period"]
        if kind in ("DiscountedUsage", "SavingsPlanCoveredUsage"):
            figures = out[(month, RI if kind == "DiscountedUsage" else SP)]
            figures["covered_on_demand_cost"] += r["public"]
            figures["covered_effective_cost"] += r["amortized"]
        elif kind in ("RIFee", "SavingsPlanRecurringFee"):
            figures = out[(month, RI if kind == "RIFee" else SP)]
            figures["unused_commitment"] += r["amortized"]
            figures["commitment_fees"] += r["unblended"]
        elif kind == "SavingsPlanUpfrontFee":
            out[(month, SP)]["commitment_fees"] += r["unblended"]
        elif kind == "Fee" and "HeavyUsage" in r["usage_type"]:  # a reservation's upfront fee
            out[(month, RI)]["commitment_fees"] += r["unblended"]
    return out


def test_tenant_commitments_equal_cost_daily_line_item_types(app, generated: Generated) -> None:
    at = app("tenant_alpha").run()
    at = no_exceptions(at.switch_page("views/commitments.py").run())
    figures = expected(generated, "tenant_alpha")
    assert {kind for _, kind in figures} == {RI, SP}
    shown = table(at, "billing_period", "commitment").set_index(["billing_period", "commitment"])
    assert set(shown.index) == set(figures)
    for key, values in figures.items():
        row = shown.loc[key]
        for column, value in values.items():
            assert row[column] == cents(value), (key, column)
        net = values["covered_on_demand_cost"] - values["covered_effective_cost"]
        assert row["net_savings"] == cents(net - values["unused_commitment"])
        used = values["covered_effective_cost"] + values["unused_commitment"]
        assert row["utilization"] == pytest.approx(float(values["covered_effective_cost"] / used))
    for kind, short in ((RI, "RI"), (SP, "SP")):
        september = figures[(SEPTEMBER, kind)]
        assert metric(at, f"{short} unused commitment")[0] == money(september["unused_commitment"])
        assert metric(at, f"{short} covered, at on-demand rates")[0] == money(
            september["covered_on_demand_cost"]
        )
        assert metric(at, f"{short} effective cost")[0] == money(
            september["covered_effective_cost"]
        )


def test_all_tenants_commitments_per_tenant(app, generated: Generated) -> None:
    at = app().run()
    at = no_exceptions(at.switch_page("views/commitments.py").run())
    shown = table(at, "billing_period", "org", "commitment")
    unused_this_month: dict[str, Decimal] = defaultdict(Decimal)
    for org in ("tenant_alpha", "tenant_beta", "tenant_stale"):
        for (month, kind), values in expected(generated, org).items():
            if month == SEPTEMBER:
                unused_this_month[kind] += values["unused_commitment"]
            (row,) = shown[
                (shown.org == org) & (shown.billing_period == month) & (shown.commitment == kind)
            ].itertuples()
            assert row.unused_commitment == cents(values["unused_commitment"])
            assert row.covered_effective_cost == cents(values["covered_effective_cost"])
    for kind, short in ((RI, "RI"), (SP, "SP")):
        assert metric(at, f"{short} unused commitment")[0] == money(unused_this_month[kind])
