"""What a page shows: settings, scope, data access, the tenant and month chosen, and now.

`app.py` builds it on every run (from the process environment and the sidebar) and keeps it in
the session for the page it runs; pages read it with `current_view()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from finops_platform.dashboard.data import DashboardData
from finops_platform.dashboard.periods import month_label
from finops_platform.dashboard.scope import Scope
from finops_platform.settings import Settings

VIEW_KEY = "_finops_view"


@dataclass(frozen=True)
class View:
    settings: Settings
    scope: Scope
    data: DashboardData
    org_id: str | None  # the tenant shown; None: all tenants (central view only)
    month: dt.date | None  # the billing month shown; None: nothing loaded yet
    now: dt.datetime

    @property
    def title_suffix(self) -> str:
        who = self.org_id or "all tenants"
        return f"{who}, {month_label(self.month)}" if self.month else who


def current_view() -> View:
    return st.session_state[VIEW_KEY]
