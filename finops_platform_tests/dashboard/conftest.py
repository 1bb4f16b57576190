"""Generated data for the dashboard tests: three tenants, two months, run through `finops run`.

- tenant_alpha (legacy CUR) and tenant_beta (CUR 2.0, net columns, and split cost allocation
  data: EKS pods and ECS tasks on its instances): August 2026 complete, September month-to-date
  up to 2026-09-30 06:00;
- tenant_stale: August only, and up to 2026-08-20 (so `month_complete` warns); nothing in
  September, so at the dashboard's pinned now it breaches its freshness SLA.

The dashboard judges freshness at NOW (FINOPS_DASHBOARD_AT), so the verdicts do not depend on the
day the tests run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from finops_platform.dashboard.scope import AT_ENV, TENANT_ENV
from finops_platform.lib.engine import EngineSession
from finops_platform.resources import build_resources
from finops_platform.sample import generate_month
from finops_platform.settings import Settings, load_settings
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.materialize import load

APP = Path(__file__).resolve().parents[2] / "finops_platform" / "dashboard" / "app.py"
AUGUST, SEPTEMBER = dt.date(2026, 8, 1), dt.date(2026, 9, 1)
NOW = dt.datetime(2026, 9, 30, 12, 0)
ROWS = 3000
TENANTS = {
    # org: (format, tags, {month: until})
    "tenant_alpha": (
        "legacy",
        ["cost_center", "environment"],
        {AUGUST: None, SEPTEMBER: dt.datetime(2026, 9, 30, 6)},
    ),
    "tenant_beta": (
        "cur2",
        ["cost_center", "team"],
        {AUGUST: None, SEPTEMBER: dt.datetime(2026, 9, 30, 6)},
    ),
    "tenant_stale": ("legacy", ["cost_center"], {AUGUST: dt.datetime(2026, 8, 20)}),
}
SPLIT_TENANTS = {"tenant_beta": "eks,ecs"}  # org: the platforms of its split rows


@dataclass(frozen=True)
class Generated:
    root: Path
    config: Path
    assembly_ids: dict[tuple[str, dt.date], str]
    rows: dict[tuple[str, dt.date], int]  # rows delivered (pod rows of split data included)

    @property
    def settings(self) -> Settings:
        return load_settings(self.config, "dev", self.root / "home")

    def query(self, org_id: str | None, sql: str) -> list[dict]:
        """Athena SQL on a tenant's (or, for None, the central) database, exact decimals."""
        settings = self.settings
        database = (
            settings.tenants.get(org_id).database
            if org_id
            else settings.environment.central_database
        )
        with self.session(database) as session:
            return session.query(sql).to_pylist()

    def session(self, database: str) -> EngineSession:
        return build_resources(self.settings)["engine"].session(database)


@pytest.fixture(scope="package")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    root = tmp_path_factory.mktemp("dashboard")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINOPS_HOME", str(root / "home"))
        env.setenv("DAGSTER_HOME", str(root / "dagster"))
        env.setenv("ENVIRONMENT", "dev")
        env.setenv(AT_ENV, NOW.isoformat())
        env.delenv(TENANT_ENV, raising=False)
        (root / "dagster").mkdir()
        entries, assembly_ids, rows = [], {}, {}
        for seed, (org, (fmt, tags, months)) in enumerate(TENANTS.items(), start=11):
            for month, until in months.items():
                delivery = generate_month(
                    root / org,
                    month=month,
                    rows=ROWS,
                    fmt=fmt,
                    seed=seed,
                    until=until,
                    split_cost_allocation=SPLIT_TENANTS.get(org, False),
                )
                assembly_ids[(org, month)] = delivery.assembly_id
                rows[(org, month)] = delivery.rows
            entries.append(
                tenant_entry(
                    org, root / org, cost_allocation_tags=tags, first_billing_month="2026-01"
                )
            )
        config = root / "tenants.json"
        config.write_text(json.dumps(entries), encoding="utf-8")
        env.setenv("CONFIG_PATH", str(config))
        assert all(report.success for report in load().reports)
        yield Generated(root, config, assembly_ids, rows)


@pytest.fixture
def app(generated: Generated, monkeypatch: pytest.MonkeyPatch):
    """A function making an AppTest of the dashboard, central or scoped to one tenant."""

    def make(tenant: str | None = None) -> AppTest:
        if tenant:
            monkeypatch.setenv(TENANT_ENV, tenant)
        else:
            monkeypatch.delenv(TENANT_ENV, raising=False)
        return AppTest.from_file(str(APP), default_timeout=60)

    return make
