"""Commitments: Reserved Instance and Savings Plans cost, what they covered, and unused
commitment, per month (from the amortization columns of cost_daily)."""

from __future__ import annotations

import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import View, current_view
from finops_platform.dashboard.frames import cents, exact_sum, format_money, to_frame
from finops_platform.dashboard.periods import month_label, trend_params

KINDS = {"Reserved Instances": "RI", "Savings Plans": "SP"}
FIGURES = {
    "covered_on_demand_cost": "covered, at on-demand rates",
    "covered_effective_cost": "effective cost",
    "unused_commitment": "unused commitment",
    "net_savings": "net savings",
}


def this_month_metrics(rows: list[dict], view: View) -> None:
    """Each kind's figures this month (summed over tenants exactly, then rounded)."""
    this = [row for row in rows if row["billing_period"] == view.month]
    for kind, short in KINDS.items():
        of_kind = [row for row in this if row["commitment"] == kind]
        st.subheader(kind)
        if not of_kind:
            st.caption("none this month")
            continue
        totals = {column: cents(exact_sum(of_kind, column)) for column in FIGURES}
        for column, (name, label) in zip(st.columns(len(FIGURES)), FIGURES.items(), strict=True):
            with column:
                ui.money_metric(f"{short} {label}", totals[name])
        unused, effective = totals["unused_commitment"], totals["covered_effective_cost"]
        if unused > 0:
            used = effective / (effective + unused)
            st.warning(
                f"{format_money(unused)} of {kind} went unused this month ({used:.1%} used)."
            )


def commitments(view: View) -> None:
    central = view.org_id is None
    with view.data.reader(view.org_id) as reader:
        table = reader.table(
            "central_commitments" if central else "commitments", **trend_params(view.month)
        )
    if table.num_rows == 0:
        st.info("No Reserved Instance or Savings Plans line items in these months.")
        return
    this_month_metrics(table.to_pylist(), view)
    frame = to_frame(table)
    shown = frame.assign(
        month=frame.billing_period.map(month_label),
        series=frame.commitment.map(KINDS) + (" " + frame.org if central else ""),
    )
    left, right = st.columns(2)
    for column, (name, title) in zip(
        (left, right),
        (("unused_commitment", "Unused commitment"), ("net_savings", "Net savings")),
        strict=True,
    ):
        with column:
            st.subheader(f"{title} per month")
            st.bar_chart(
                shown, x="month", y=name, color="series", stack=False, x_label="", y_label="USD"
            )
    st.subheader("Per month")
    ui.table(frame)
    st.caption(
        "Covered: the usage the commitments covered, at public on-demand rates; effective cost: "
        "its amortized cost; unused commitment: RIFee / SavingsPlanRecurringFee amortized (paid "
        "for, not used); commitment fees: what was billed for the commitments; net savings = "
        "covered - effective cost - unused commitment."
    )


view = current_view()
st.title(f"Commitments: {view.title_suffix}")
if view.month is None:
    ui.nothing_loaded("cost data")
else:
    commitments(view)
