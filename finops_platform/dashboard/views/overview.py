"""Overview: cost per day and per month, top services and accounts, month-over-month change.

For one tenant (its curated tables), or for all tenants side by side (the central database).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import View, current_view
from finops_platform.dashboard.data import Reader
from finops_platform.dashboard.frames import cents, exact_sum, to_frame, with_change_ratio
from finops_platform.dashboard.periods import month_label, month_params, trend_params
from finops_platform.defs.common.keys import COST_MONTHLY_SUMMARY, CROSS_ORG, table_name
from finops_platform.lib.sql import Identifier
from finops_platform.months import shift_month

TOP = 10
COSTS = ["unblended_cost", "amortized_cost"]
MONTH_COLUMNS = [*COSTS, "net_amortized_cost"]
AXES = {"x_label": "", "y_label": "USD"}
SIDE_BY_SIDE_COLUMNS = ["org", *MONTH_COLUMNS, "previous_amortized_cost", "amortized_change"]
# A tenant's monthly totals per account and service (a curated table).
MONTHLY_SUMMARY = table_name(COST_MONTHLY_SUMMARY)


def charts(daily: pd.DataFrame, monthly: pd.DataFrame, by_tenant: bool) -> None:
    labels = {"unblended_cost": "Unblended", "amortized_cost": "Amortized", "org": "Tenant"}
    per_day = daily.rename(columns=labels)
    per_month = monthly.assign(month=monthly.billing_period.map(month_label)).rename(columns=labels)
    left, right = st.columns(2)
    with left:
        st.subheader("Cost per day")
        if by_tenant:
            st.line_chart(per_day, x="usage_date", y="Amortized", color="Tenant", **AXES)
        else:
            st.line_chart(per_day, x="usage_date", y=["Unblended", "Amortized"], **AXES)
    with right:
        st.subheader("Cost per month")
        if by_tenant:
            st.bar_chart(per_month, x="month", y="Amortized", color="Tenant", stack=False, **AXES)
        else:
            st.bar_chart(per_month, x="month", y=["Unblended", "Amortized"], stack=False, **AXES)
    with st.expander("Figures behind the charts"):
        ui.table(daily)
        ui.table(monthly)


def top_frames(reader: Reader, month: dt.date, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month's top services and accounts in `table`, with their change versus last month."""
    params = {**month_params(month), "relation": Identifier(table), "limit": TOP}
    return reader.frame("top_services", **params), reader.frame("top_accounts", **params)


def top_tables(services: pd.DataFrame, accounts: pd.DataFrame, suffix: str) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader(f"Top services{suffix}")
        ui.table(with_change_ratio(services))
    with right:
        st.subheader(f"Top accounts{suffix}")
        ui.table(with_change_ratio(accounts))


def tenant_overview(view: View) -> None:
    month = view.month
    with view.data.reader(view.org_id) as reader:
        monthly_table = reader.table("monthly_cost", **trend_params(month))
        daily = reader.frame("daily_cost", **month_params(month))
        services, accounts = top_frames(reader, month, MONTHLY_SUMMARY)
    by_month = {row["billing_period"]: row for row in monthly_table.to_pylist()}
    this, previous = by_month[month], by_month.get(shift_month(month, -1))
    first, second, third, fourth = st.columns(4)
    with first:
        ui.money_metric("Unblended cost", cents(this["unblended_cost"]))
    with second:
        ui.money_metric(
            "Amortized cost",
            cents(this["amortized_cost"]),
            cents(this["amortized_cost"] - previous["amortized_cost"]) if previous else None,
            cents(previous["amortized_cost"]) if previous else None,
            help="Commitments spread over the usage they covered (the CID formula); "
            "the change is versus last month",
        )
    with third:
        ui.money_metric(
            "Net amortized cost",
            cents(this["net_amortized_cost"]),
            help="n/a where the CUR has no net (discounted) cost columns",
        )
    with fourth:
        st.metric("Line items", f"{int(this['line_items']):,}", border=True)
    charts(daily, to_frame(monthly_table), by_tenant=False)
    top_tables(services, accounts.drop(columns="org"), "")  # one tenant: its org says nothing


def side_by_side(rows: list[dict], month: dt.date) -> pd.DataFrame:
    """Each tenant's month next to its previous month (changes from the exact figures)."""
    before = {r["org"]: r for r in rows if r["billing_period"] == shift_month(month, -1)}
    records = []
    for row in (r for r in rows if r["billing_period"] == month):
        previous = before.get(row["org"])
        records.append(
            {
                "org": row["org"],
                **{column: cents(row[column]) for column in MONTH_COLUMNS},
                "previous_amortized_cost": cents(previous["amortized_cost"]) if previous else None,
                "amortized_change": (
                    cents(row["amortized_cost"] - previous["amortized_cost"]) if previous else None
                ),
            }
        )
    return with_change_ratio(pd.DataFrame(records, columns=SIDE_BY_SIDE_COLUMNS))


def central_overview(view: View) -> None:
    month = view.month
    with view.data.reader(None) as reader:
        monthly_table = reader.table("central_monthly_cost", **trend_params(month))
        daily = reader.frame("central_daily_cost", **month_params(month))
        services, accounts = top_frames(reader, month, table_name(CROSS_ORG))
    rows = [row for row in monthly_table.to_pylist() if row["billing_period"] == month]
    first, second, third = st.columns(3)
    with first:
        ui.money_metric("Unblended cost, all tenants", cents(exact_sum(rows, COSTS[0])))
    with second:
        ui.money_metric("Amortized cost, all tenants", cents(exact_sum(rows, COSTS[1])))
    with third:
        st.metric("Tenants", len(rows), border=True)
    st.subheader("Tenants side by side")
    ui.table(side_by_side(monthly_table.to_pylist(), month))
    charts(daily, to_frame(monthly_table), by_tenant=True)
    top_tables(services, accounts, ", all tenants")


view = current_view()
st.title(f"Overview: {view.title_suffix}")
if view.month is None:
    ui.nothing_loaded("cost data")
elif view.org_id is None:
    central_overview(view)
else:
    tenant_overview(view)
