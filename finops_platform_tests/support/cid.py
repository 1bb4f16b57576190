"""The cost measures of one raw CUR line item, computed in Python from docs/ARCHITECTURE.md's
formulas: the independent side tests compare the SQL's curated tables with."""

from __future__ import annotations

from decimal import Decimal


def money(value: float | None) -> Decimal:
    """A CUR double as the curated tables hold it: DECIMAL(38, 10)."""
    return Decimal(repr(value or 0.0)).quantize(Decimal("1e-10"))


def amortized(row: dict) -> Decimal:
    """docs/ARCHITECTURE.md's amortized cost (the CID formula), row by row."""
    kind = row["line_item_line_item_type"]
    if kind == "SavingsPlanCoveredUsage":
        return money(row["savings_plan_savings_plan_effective_cost"])
    if kind == "SavingsPlanRecurringFee":
        return money(
            (row["savings_plan_total_commitment_to_date"] or 0)
            - (row["savings_plan_used_commitment"] or 0)
        )
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return Decimal(0)
    if kind == "DiscountedUsage":
        return money(row["reservation_effective_cost"])
    if kind == "RIFee":
        return money(
            (row["reservation_unused_amortized_upfront_fee_for_billing_period"] or 0)
            + (row["reservation_unused_recurring_fee"] or 0)
        )
    if kind == "Fee" and row["reservation_reservation_a_r_n"]:
        return Decimal(0)
    return money(row["line_item_unblended_cost"])
