"""Showback: cost by allocation tag key and value, the untagged share and tag coverage, as CSV.

Tags are configured per tenant (`cost_allocation_tags`), so values are shown for one tenant; the
central view's "All tenants" compares the tenants' tag coverage.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import View, current_view
from finops_platform.dashboard.frames import to_csv
from finops_platform.dashboard.periods import month_label, month_params
from finops_platform.defs.common.sql_checks import UNTAGGED


def coverage_metrics(coverage: pd.DataFrame) -> None:
    for column, row in zip(st.columns(len(coverage)), coverage.itertuples(), strict=True):
        with column:
            st.metric(
                f"{row.tag_key} coverage",
                "n/a" if pd.isna(row.amortized_coverage) else f"{row.amortized_coverage:.1%}",
                help="Share of the month's amortized cost carrying this tag key",
                border=True,
            )


def tenant_showback(view: View) -> None:
    tenant = view.scope.tenant(view.org_id)
    if not tenant.cost_allocation_tags:
        st.info(f"Tenant {tenant.org_id} has no cost_allocation_tags configured.")
        return
    with view.data.reader(view.org_id) as reader:
        by_tag = reader.frame("showback_by_tag", **month_params(view.month))
        coverage = reader.frame("tag_coverage", **month_params(view.month), untagged=UNTAGGED)
    if by_tag.empty:
        ui.nothing_loaded("showback data for this month")
        return
    coverage_metrics(coverage)
    st.subheader("Tag coverage")
    ui.table(coverage)
    st.subheader("Cost by tag value")
    for tab, key in zip(st.tabs(list(coverage.tag_key)), coverage.tag_key, strict=True):
        with tab:
            values = by_tag[by_tag.tag_key == key]
            st.bar_chart(values, x="tag_value", y="amortized_cost", horizontal=True)
            ui.table(values.drop(columns="tag_key"))
    st.download_button(
        "Download showback as CSV",
        data=to_csv(by_tag, org=tenant.org_id, month=month_label(view.month)),
        file_name=f"showback_{tenant.org_id}_{month_label(view.month)}.csv",
        mime="text/csv",
    )


def central_showback(view: View) -> None:
    st.info("Tag keys are configured per tenant: choose a tenant in the sidebar for its values.")
    frames = []
    for tenant in view.scope.tenants():
        if view.month not in view.data.months(tenant.org_id):
            continue
        with view.data.reader(tenant.org_id) as reader:
            coverage = reader.frame("tag_coverage", **month_params(view.month), untagged=UNTAGGED)
        frames.append(coverage.assign(org=tenant.org_id))
    st.subheader("Tag coverage by tenant")
    if not frames or all(f.empty for f in frames):
        ui.nothing_loaded("showback data for this month")
        return
    coverage = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    ui.table(coverage[["org", *coverage.columns.drop("org")]])


view = current_view()
st.title(f"Showback: {view.title_suffix}")
if view.month is None:
    ui.nothing_loaded("cost data")
elif view.org_id is None:
    central_showback(view)
else:
    tenant_showback(view)
