"""The cost measures of one raw CUR line item, computed in Python from docs/ARCHITECTURE.md's
formulas: the independent side tests compare the SQL's curated tables with."""

from __future__ import annotations

from decimal import Decimal


def money(value: float | None) -> Decimal:
    """A CUR double as the curated tables hold it: DECIMAL(38, 10)."""
    return Decimal(repr(value or 0.0)).quantize(Decimal("1e-10"))


def _unused_commitment(row: dict) -> float:
    """A Savings Plan recurring fee's commitment not used this hour."""
    return (row["savings_plan_total_commitment_to_date"] or 0) - (
        row["savings_plan_used_commitment"] or 0
    )


def _net_ratio(row: dict) -> float:
    """Net over gross of a Savings Plan's commitment (its upfront part for All Upfront)."""
    part = (
        "amortized_upfront_commitment_for_billing_period"
        if row["savings_plan_payment_option"] == "All Upfront"
        else "recurring_commitment_for_billing_period"
    )
    gross = row[f"savings_plan_{part}"]
    return row[f"savings_plan_net_{part}"] / gross if gross else 1.0


def _cid(row: dict, net: str) -> Decimal:
    """The CID formula on the gross (`net` '') or net (`net` 'net_') columns."""
    kind = row["line_item_line_item_type"]
    if kind == "SavingsPlanCoveredUsage":
        return money(row[f"savings_plan_{net}savings_plan_effective_cost"])
    if kind == "SavingsPlanRecurringFee":
        return money(_unused_commitment(row) * (_net_ratio(row) if net else 1.0))
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return Decimal(0)
    if kind == "DiscountedUsage":
        return money(row[f"reservation_{net}effective_cost"])
    if kind == "RIFee":
        return money(
            (row[f"reservation_{net}unused_amortized_upfront_fee_for_billing_period"] or 0)
            + (row[f"reservation_{net}unused_recurring_fee"] or 0)
        )
    if kind == "Fee" and row["reservation_reservation_a_r_n"]:
        return Decimal(0)
    return money(row[f"line_item_{net}unblended_cost"])


def amortized(row: dict) -> Decimal:
    """docs/ARCHITECTURE.md's amortized cost (the CID formula), row by row."""
    return _cid(row, "")


def net_amortized(row: dict) -> Decimal | None:
    """The same formula on the net columns; None where the CUR has no net columns."""
    if row["line_item_net_unblended_cost"] is None:
        return None
    return _cid(row, "net_")
