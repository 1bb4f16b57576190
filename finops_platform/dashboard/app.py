"""The dashboard's entry script (`streamlit run` this file; `finops dashboard` does).

On every run: settings and scope from the process environment, the sidebar's tenant and month,
then the chosen page. Nothing from the browser can widen the scope.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from finops_platform.core import ConfigError
from finops_platform.dashboard.context import VIEW_KEY, View
from finops_platform.dashboard.data import DashboardData
from finops_platform.dashboard.scope import now_from_environment, scope_from_environment
from finops_platform.dashboard.sidebar import choose_month, choose_tenant
from finops_platform.resources import build_resources, settings_from

PAGES = Path(__file__).resolve().parent / "views"
HEALTH_PATH = "data_health"

st.set_page_config(page_title="FinOps dashboard", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", default=True),
        st.Page(PAGES / "showback.py", title="Showback"),
        st.Page(PAGES / "commitments.py", title="Commitments"),
        st.Page(PAGES / "anomalies.py", title="Anomalies & forecast"),
        st.Page(PAGES / "workloads.py", title="Workloads"),
        st.Page(PAGES / "data_health.py", title="Data health", url_path=HEALTH_PATH),
    ]
)
try:
    settings = settings_from()
    scope = scope_from_environment(settings)
    resources = build_resources(settings)
except ConfigError as exc:
    st.error(f"Configuration problem: {exc}")
    st.stop()
data = DashboardData(scope, resources["engine"], resources["catalog"])
org_id = choose_tenant(scope)
month = choose_month(data, org_id) if navigation.url_path != HEALTH_PATH else None
st.session_state[VIEW_KEY] = View(settings, scope, data, org_id, month, now_from_environment())
navigation.run()
