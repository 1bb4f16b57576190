"""`finops query` sees one tenant's catalog and data only."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load


def finops(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def two_tenants(
    real_sample: Path, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> Path:
    shutil.copytree(real_sample, tmp_path / "other")
    write_config(
        [
            tenant_entry("alpha", real_sample, first_billing_month="2018-10"),
            tenant_entry("beta", tmp_path / "other", first_billing_month="2018-10"),
        ]
    )
    loaded = load(months=[dt.date(2018, 10, 1)])
    assert loaded.ok, loaded.reports
    return finops_home / "buckets/finops-lake/custos/cur"


def test_each_tenant_sees_its_own_table(two_tenants: Path) -> None:
    for org in ("alpha", "beta"):
        code, output = finops(
            "query",
            "--tenant",
            org,
            "--format",
            "json",
            "SELECT count(*) AS n, min(org) AS org FROM tb_cur_raw "
            "WHERE year = 2018 AND month = 10",
        )
        assert code == 0, output
        assert json.loads(output) == [{"n": 119307, "org": org}]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM custos_alpha_db.tb_cur_raw",
        "SELECT count(*) FROM read_parquet('{lake}/org=alpha/year=2018/month=10/*.parquet')",
        "SELECT count(*) FROM read_parquet('{lake}/org=beta/../org=alpha/year=2018/*/*.parquet')",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_a_tenant_cannot_read_another_tenants_data_or_arbitrary_files(
    two_tenants: Path, sql: str
) -> None:
    code, output = finops("query", "--tenant", "beta", sql.format(lake=two_tenants))
    assert code == 2
    assert "error:" in output
    assert "root:" not in output
