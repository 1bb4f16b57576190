"""Anomalies & forecast: the month's daily cost with its expected cost and band and the anomaly
days marked, the month-end forecast cone against the tenant's budget, and the anomaly list with
drivers (from cost_anomalies, cost_forecast and cost_daily)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import View, current_view
from finops_platform.dashboard.data import Reader
from finops_platform.dashboard.frames import cents
from finops_platform.dashboard.periods import month_params
from finops_platform.lib.anomalies.detect import Band, total_bands
from finops_platform.lib.anomalies.series import Rows, history_params, history_start
from finops_platform.months import last_day


def band_frame(
    daily: pd.DataFrame, bands: dict[dt.date, Band], anomalies: pd.DataFrame
) -> pd.DataFrame:
    """Per day of the month: the usage cost (what is judged), the expected cost and band the
    total is judged by (on the complete days with enough history), and the cost again on the
    total's anomaly days only, as their markers."""
    shown = daily.set_index("usage_date")[["usage_cost"]].rename(columns={"usage_cost": "cost"})
    for column in ("expected", "lower", "upper"):
        shown[column] = [
            cents(getattr(bands[d], column)) if d in bands else None for d in shown.index
        ]
    anomaly_days = set(anomalies[anomalies.level == "total"].usage_date)
    shown["anomaly"] = shown["cost"].where(shown.index.isin(anomaly_days))
    return shown.rename(columns={"lower": "band bottom", "upper": "band top"})


def daily_chart(shown: pd.DataFrame) -> None:
    st.subheader("Daily usage cost, expected band and anomaly days")
    st.line_chart(shown.drop(columns=["anomaly"]), x_label="", y_label="USD")
    if shown["anomaly"].notna().any():
        st.scatter_chart(shown[["anomaly"]], x_label="", y_label="USD (anomaly days)")


def judged_bands(view: View, reader: Reader, complete_days: int) -> dict[dt.date, Band]:
    """The band of the month's complete days, from the same daily rows and model as
    cost_anomalies (sql/anomalies/daily_cost.sql, lib/anomalies): drawn for every day, where
    cost_anomalies keeps it for the anomaly days only."""
    month = view.month
    if not complete_days:
        return {}
    history = reader.session.query_file(
        "anomalies/daily_cost.sql",
        {**reader.params, **month_params(month), **history_params(month)},
    )
    last = month + dt.timedelta(days=complete_days - 1)
    tenant = view.settings.tenants.get(view.org_id)
    return total_bands(
        Rows.from_tables(history), history_start(month), (month, last), tenant.anomaly
    )


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
        totals = forecasts[forecasts.level == "total"].to_dict("records")
        complete_days = int(totals[0]["complete_days"]) if totals else 0
        bands = judged_bands(view, reader, complete_days)
    tenant = view.settings.tenants.get(view.org_id)
    budget = next((b.amount for b in tenant.budgets if b.scope == "tenant"), None)
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
    daily_chart(band_frame(daily, bands, anomalies))
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
