"""Tenant scoping: a dashboard started for one tenant shows that tenant only, whatever the
browser sends, and its data access cannot open another tenant's database or files."""

from __future__ import annotations

import duckdb
import pytest

from finops_platform.dashboard.data import DashboardData
from finops_platform.dashboard.scope import Scope, ScopeError
from finops_platform.resources import build_resources
from finops_platform_tests.dashboard.conftest import SEPTEMBER, Generated
from finops_platform_tests.dashboard.shown import all_text, money, no_exceptions

PAGES = ["views/overview.py", "views/showback.py", "views/commitments.py", "views/data_health.py"]
TOTALS_SQL = """
SELECT billing_period, sum(unblended_cost) AS unblended, sum(amortized_cost) AS amortized
FROM cost_daily WHERE year = 2026 AND month IN (8, 9) GROUP BY billing_period
"""


def test_a_tenant_scoped_app_never_shows_another_tenants_figures(app, generated: Generated):
    others = {"tenant_alpha", "tenant_stale"}
    other_figures = {
        money(row[column])
        for org in others
        for row in generated.query(org, TOTALS_SQL)
        for column in ("unblended", "amortized")
    }
    own = {r["billing_period"]: r for r in generated.query("tenant_beta", TOTALS_SQL)}
    assert not other_figures & {money(own[SEPTEMBER]["amortized"])}

    at = app("tenant_beta")
    # What a browser could try: a tenant in the session, the URL, or the sidebar's key.
    at.session_state["tenant"] = "tenant_alpha"
    at.query_params["tenant"] = "tenant_alpha"
    no_exceptions(at.run())
    assert not [s for s in at.selectbox if s.label == "Tenant"]
    for page in PAGES:
        text = all_text(no_exceptions(at.switch_page(page).run()))
        assert "tenant_beta" in text
        for other in others:
            assert other not in text, page
        shown = {figure for figure in other_figures if figure in text}
        assert not shown, (page, shown)
    at.switch_page("views/overview.py").run()
    assert money(own[SEPTEMBER]["amortized"]) in all_text(at)


def test_scope_refuses_any_other_database(generated: Generated) -> None:
    settings = generated.settings
    resources = build_resources(settings)
    data = DashboardData(Scope(settings, "tenant_beta"), resources["engine"], resources["catalog"])
    for org in ("tenant_alpha", None):
        with pytest.raises(ScopeError, match="scoped to tenant 'tenant_beta'"):
            data.months(org)
        with pytest.raises(ScopeError), data.reader(org):
            pass
    assert Scope(settings, "tenant_beta").narrowed("tenant_beta").locked_tenant == "tenant_beta"
    with pytest.raises(ScopeError):
        Scope(settings, "tenant_beta").narrowed("tenant_alpha")


def test_a_tenant_session_cannot_read_another_tenants_files(generated: Generated) -> None:
    settings = generated.settings
    resources = build_resources(settings)
    data = DashboardData(Scope(settings, "tenant_beta"), resources["engine"], resources["catalog"])
    lake = settings.finops_home / "buckets" / "finops-lake" / "custos"
    alpha = sorted((lake / "curated" / "cost_daily" / "org=tenant_alpha").rglob("*.parquet"))
    assert alpha
    with data.reader("tenant_beta") as reader:
        assert reader.frame("daily_cost", year=2026, month=9).shape[0] > 0
        with pytest.raises(duckdb.Error, match=r"(?i)permission|access|disabled"):
            reader.session.query_native(f"SELECT count(*) FROM read_parquet('{alpha[0]}')")


def test_an_unknown_tenant_scope_is_a_configuration_error(app, generated: Generated) -> None:
    at = app("nobody").run()
    assert at.error[0].value.startswith("Configuration problem: unknown tenant 'nobody'")
