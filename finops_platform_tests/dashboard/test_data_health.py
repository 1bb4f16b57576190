"""Data health page: the tenant x month matrix from the catalog, the Dagster instance and the
freshness SLA; a breach and a failed check stand out."""

from __future__ import annotations

import pandas as pd

from finops_platform.dashboard.health import BREACH, OK, WARN
from finops_platform.dashboard.health_tables import COLOURS, styled
from finops_platform.defs.common.keys import TENANT_MONTH_CHECKS
from finops_platform_tests.dashboard.conftest import (
    AUGUST,
    ROWS,
    SEPTEMBER,
    SPLIT_TENANTS,
    Generated,
)
from finops_platform_tests.dashboard.shown import no_exceptions, table

ROWS_SQL = "SELECT count(*) AS n FROM tb_cur_raw WHERE year = 2026 AND month = {month}"


def health_page(app, tenant: str | None = None):
    at = app(tenant).run()
    return no_exceptions(at.switch_page("views/data_health.py").run())


def test_matrix_shows_rows_checks_and_freshness_per_tenant_and_month(app, generated: Generated):
    at = health_page(app)
    checks = len(TENANT_MONTH_CHECKS)
    matrix = at.dataframe[0].value
    assert list(matrix.columns) == ["2026-08", "2026-09"]
    assert matrix.to_dict("index") == {
        "tenant_alpha": {"2026-08": "OK · 3,000 rows", "2026-09": "OK · 3,000 rows, 7.0 h lag"},
        # 3,000 line items and the EKS pod and ECS task rows of split cost allocation data
        "tenant_beta": {"2026-08": "OK · 4,364 rows", "2026-09": "OK · 4,488 rows, 7.0 h lag"},
        "tenant_stale": {
            "2026-08": "WARN · month_complete",
            "2026-09": "SLA BREACH · 997.0 h > 24 h",
        },
    }
    assert [e.value for e in at.error] == [
        "SLA BREACH: tenant_stale: SLA_BREACH, 997.0 h since the last usage hour "
        "(2026-08-19 23:00:00), none yet in 2026-09, SLA 24 h"
    ]
    assert [w.value for w in at.warning] == ["WARN: tenant_stale 2026-08: month_complete"]

    details = table(at, "tenant", "month", "status", "rows").set_index(["tenant", "month"])
    for (org, month), assembly_id in generated.assembly_ids.items():
        row = details.loc[(org, f"{month:%Y-%m}")]
        (count,) = generated.query(org, ROWS_SQL.format(month=month.month))
        assert row["rows"] == count["n"] == generated.rows[(org, month)]
        assert count["n"] == ROWS or org in SPLIT_TENANTS
        assert row["assembly_id"] == assembly_id
        assert row["last_run"] == "SUCCESS"
        assert not pd.isna(row["loaded_at"])
        if (org, month) == ("tenant_stale", AUGUST):
            assert row["status"] == WARN
            assert row["checks_passed"] == f"{checks - 1}/{checks}"
            assert row["failed_checks"] == "tb_cur_raw.month_complete (WARN)"
        else:
            assert row["status"] == OK
            assert row["checks_passed"] == f"{checks}/{checks}"
    missing = details.loc[("tenant_stale", f"{SEPTEMBER:%Y-%m}")]
    assert missing["status"] == BREACH and pd.isna(missing["rows"])

    freshness = table(at, "tenant", "month", "status", "last_usage_start").set_index("tenant")
    assert freshness["status"].to_dict() == {
        "tenant_alpha": OK,
        "tenant_beta": OK,
        "tenant_stale": BREACH,
    }
    assert freshness.loc["tenant_alpha", "hours_lag"] == 7.0
    # Counted from its last usage hour in August, not from September's start.
    assert freshness.loc["tenant_stale", "hours_lag"] == 997.0


def test_breaches_and_errors_are_red_and_warnings_amber() -> None:
    frame = pd.DataFrame({"2026-09": ["SLA BREACH · 708.0 h > 24 h", "OK · 3 rows", "WARN · x"]})
    html = styled(frame).to_html()
    assert COLOURS[BREACH].split(";")[0] in html
    assert COLOURS[WARN].split(";")[0] in html


def test_a_tenant_scoped_health_page_shows_only_that_tenant(app, generated: Generated):
    at = health_page(app, "tenant_beta")
    assert list(at.dataframe[0].value.index) == ["tenant_beta"]
    assert not at.error
    assert [s.value for s in at.success] == [
        "Every tenant is within its SLA and every check passed."
    ]
