"""Anomalies & forecast: the month's daily cost with its anomaly days (expected cost and band
beside the actual), the month-end forecast cone against the tenant's budget, and the anomaly
list with drivers (from cost_anomalies, cost_forecast and cost_daily)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import View, current_view
from finops_platform.dashboard.periods import month_params
from finops_platform.months import last_day


def daily_chart(daily: pd.DataFrame, anomalies: pd.DataFrame) -> None:
    """Daily usage cost (what is judged); on the total's anomaly days, the expected cost and
    the band's top."""
    total = anomalies[anomalies.level == "total"].set_index("usage_date")
    shown = daily.set_index("usage_date")[["usage_cost"]].rename(columns={"usage_cost": "cost"})
    shown["expected (anomaly days)"] = total["expected"].reindex(shown.index)
    shown["band top (anomaly days)"] = total["upper"].reindex(shown.index)
    st.subheader("Daily usage cost and anomaly days")
    st.line_chart(shown, x_label="", y_label="USD")


def forecast_cone(view: View, daily: pd.DataFrame, total: dict, budget: float | None) -> None:
    """Cumulative cost so far, then straight lines to the forecast and its interval at month end;
    the budget as a flat line."""
    month = view.month
    end = last_day(month)
    cumulative = daily.set_index("usage_date")["amortized_cost"].cumsum()
    done = month + dt.timedelta(days=int(total["complete_days"]) - 1)
    days = pd.Index([month + dt.timedelta(days=i) for i in range(end.day)], name="day")
    cone = pd.DataFrame(index=days)
    cone["cost so far"] = cumulative.reindex(days).where(days <= done)
    start = float(cumulative.get(done, 0.0))
    remaining = (end - done).days
    for column, target in (("forecast", "forecast"), ("lower", "lower"), ("upper", "upper")):
        steps = [(d - done).days for d in days]
        cone[column] = [
            start + (float(total[target]) - start) * s / remaining if s >= 0 and remaining else None
            for s in steps
        ]
    if budget is not None:
        cone["budget"] = budget
    st.subheader("Forecast to month end")
    st.line_chart(cone, x_label="", y_label="USD")


def anomalies_page(view: View) -> None:
    params = month_params(view.month)
    with view.data.reader(view.org_id) as reader:
        daily = reader.frame("daily_usage_cost", **params)
        anomalies = reader.frame("anomalies", **params)
        forecasts = reader.frame("forecast", **params)
    tenant = view.settings.tenants.get(view.org_id)
    budget = next((b.amount for b in tenant.budgets if b.scope == "tenant"), None)
    totals = forecasts[forecasts.level == "total"].to_dict("records")
    left, middle, right = st.columns(3)
    if totals:
        total = totals[0]
        with left:
            ui.money_metric("Cost so far", total["actual_to_date"])
        with middle:
            ui.money_metric("Month-end forecast", total["forecast"])
        with right:
            ui.money_metric("Budget", budget)
        st.caption(
            f"Forecast from {int(total['complete_days'])} complete days of "
            f"{int(total['days_in_month'])}; 90 % interval {total['lower']:,.2f} to "
            f"{total['upper']:,.2f}; naive run rate {total['run_rate']:,.2f}."
        )
        forecast_cone(view, daily, total, budget)
    daily_chart(daily, anomalies)
    st.subheader("Anomalies")
    if anomalies.empty:
        st.info("No cost anomaly this month.")
    else:
        ui.table(anomalies)
    st.subheader("Forecast per service")
    ui.table(forecasts[forecasts.level == "service"].drop(columns=["level"]))


view = current_view()
st.title(f"Anomalies & forecast: {view.title_suffix}")
if view.month is None:
    ui.nothing_loaded("cost data")
elif view.org_id is None:
    st.info("Anomalies and forecasts are per tenant: choose a tenant in the sidebar.")
else:
    anomalies_page(view)
