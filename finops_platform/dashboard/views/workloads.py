"""Workloads: Kubernetes (EKS) and ECS cost per cluster, namespace and workload, from split cost
allocation data (`cost_by_workload`): what the pods and tasks used, what their instances left
idle, as CSV. An ECS service is a workload of its cluster with no namespace.

Only payers that opted in to split cost allocation data have these rows; the page says so when a
tenant has none. The central view lists every tenant's workloads side by side.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finops_platform.dashboard import ui
from finops_platform.dashboard.context import View, current_view
from finops_platform.dashboard.frames import cents, exact_sum, to_csv, to_frame
from finops_platform.dashboard.periods import month_label, month_params

NO_SPLIT_DATA = (
    "No workload costs this month: the payer has not turned on split cost allocation data for "
    "EKS/ECS, or no pods or tasks ran on EC2."
)


def workload_frame(view: View, org_id: str) -> tuple[pd.DataFrame, dict[str, float | None]]:
    """A tenant's workloads (money in cents) and its totals, summed exactly before rounding."""
    with view.data.reader(org_id) as reader:
        table = reader.table("workloads", **month_params(view.month))
    rows = table.to_pylist()
    totals = {c: cents(exact_sum(rows, c)) for c in ("total_cost", "split_cost", "unused_cost")}
    return to_frame(table), totals


def workload_names(workloads: pd.DataFrame) -> list[str]:
    """`cluster/namespace/workload` of each row, without the empty namespace of ECS services."""
    parts = zip(workloads.cluster, workloads.namespace, workloads.workload, strict=True)
    return ["/".join(part for part in row if part) for row in parts]


def tenant_workloads(view: View) -> None:
    workloads, totals = workload_frame(view, view.org_id)
    if workloads.empty:
        st.info(NO_SPLIT_DATA)
        return
    for column, (label, name) in zip(
        st.columns(3),
        (("Workload cost", "total_cost"), ("Used", "split_cost"), ("Idle", "unused_cost")),
        strict=True,
    ):
        with column:
            ui.money_metric(label, totals[name])
    st.subheader("Cost by workload")
    chart = workloads.assign(name=workload_names(workloads))
    st.bar_chart(chart, x="name", y=["split_cost", "unused_cost"], horizontal=True)
    ui.table(workloads)
    st.download_button(
        "Download workloads as CSV",
        data=to_csv(workloads, org=view.org_id, month=month_label(view.month)),
        file_name=f"workloads_{view.org_id}_{month_label(view.month)}.csv",
        mime="text/csv",
    )


def central_workloads(view: View) -> None:
    frames = [
        workload_frame(view, tenant.org_id)[0].assign(org=tenant.org_id)
        for tenant in view.scope.tenants()
        if view.month in view.data.months(tenant.org_id)
    ]
    frames = [frame for frame in frames if not frame.empty]
    st.subheader("Workloads by tenant")
    if not frames:
        st.info(NO_SPLIT_DATA)
        return
    workloads = pd.concat(frames, ignore_index=True)
    ui.table(workloads[["org", *workloads.columns.drop("org")]])


view = current_view()
st.title(f"Workloads: {view.title_suffix}")
if view.month is None:
    ui.nothing_loaded("cost data")
elif view.org_id is None:
    central_workloads(view)
else:
    tenant_workloads(view)
