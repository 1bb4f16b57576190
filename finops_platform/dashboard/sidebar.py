"""The sidebar: which tenant (central view only) and which billing month to show."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from finops_platform.dashboard.data import DashboardData
from finops_platform.dashboard.periods import month_label
from finops_platform.dashboard.scope import Scope

ALL_TENANTS = "All tenants"
TENANT_KEY = "tenant"
MONTH_KEY = "month"


def choose_tenant(scope: Scope) -> str | None:
    """The locked tenant, or the sidebar's choice in the central view (None: all tenants)."""
    if not scope.central:
        st.sidebar.markdown(f"**Tenant:** `{scope.locked_tenant}`")
        st.sidebar.caption("This dashboard is scoped to one tenant.")
        return scope.locked_tenant
    options = [ALL_TENANTS, *(t.org_id for t in scope.tenants())]
    if st.session_state.get(TENANT_KEY) not in options:
        st.session_state[TENANT_KEY] = ALL_TENANTS
    choice = st.sidebar.selectbox("Tenant", options, key=TENANT_KEY)
    return None if choice == ALL_TENANTS else choice


def choose_month(data: DashboardData, org_id: str | None) -> dt.date | None:
    """A loaded billing month (newest first), or None when nothing is loaded."""
    months = data.months(org_id)[::-1]
    if not months:
        return None
    labels = [month_label(m) for m in months]
    if st.session_state.get(MONTH_KEY) not in labels:
        st.session_state[MONTH_KEY] = labels[0]
    chosen = st.sidebar.selectbox("Billing month", labels, key=MONTH_KEY)
    return months[labels.index(chosen)]
