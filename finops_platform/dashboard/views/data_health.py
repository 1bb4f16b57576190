"""Data health: per tenant x month, delivery, rows ingested, check results and freshness SLA."""

from __future__ import annotations

import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import current_view
from finops_platform.dashboard.health import ERROR, WARN, collect_health
from finops_platform.dashboard.health_tables import (
    detail_frame,
    freshness_frame,
    matrix_frame,
    styled,
)
from finops_platform.dashboard.periods import month_label

view = current_view()
st.title(f"Data health: {view.org_id or 'all tenants'}")
report = collect_health(
    view.scope.narrowed(view.org_id),
    view.data.engine,
    view.data.catalog,
    view.settings.dagster_home,
    view.now,
)
for breach in report.breaches:
    st.error(f"SLA BREACH: {breach.describe()}")
for cell in report.problems:
    if cell.status in (ERROR, WARN):
        st.warning(f"{cell.status}: {cell.org_id} {month_label(cell.month)}: {cell.summary}")
if not report.breaches and not report.problems:
    st.success("Every tenant is within its SLA and every check passed.")
st.subheader("Tenant x month")
st.dataframe(styled(matrix_frame(report)))
st.subheader("Freshness SLA, this month")
st.dataframe(styled(freshness_frame(report), ["status"]), hide_index=True)
st.subheader("Deliveries, loads and checks")
ui.table(detail_frame(report))
st.caption(
    f"Judged at {view.now:%Y-%m-%d %H:%M} UTC. Rows, assembly id and last usage hour from the "
    f"catalog; runs, loads and check results from the Dagster instance at "
    f"{view.settings.dagster_home}."
)
