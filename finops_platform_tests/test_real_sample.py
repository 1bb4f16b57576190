"""The real October 2018 CUR export through the whole CLI: run, query, run again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finops_platform_tests.conftest import WriteConfig, tenant_entry

FINOPS = Path(sys.executable).with_name("finops")
COUNT_AND_COST = (
    "SELECT count(*) AS n, sum(line_item_unblended_cost) AS cost FROM tb_cur_raw "
    "WHERE year = 2018 AND month = 10"
)


def finops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FINOPS), *args], capture_output=True, text=True, timeout=300)


def query_count_and_cost() -> dict:
    result = finops("query", "--tenant", "real_sample", "--format", "json", COUNT_AND_COST)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    return row


def test_real_sample_runs_and_reruns_without_duplicates(
    real_sample: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config(
        [
            tenant_entry(
                "real_sample", real_sample, cur_format="legacy", first_billing_month="2018-10"
            )
        ]
    )
    for _ in range(2):
        result = finops("run", "--tenant", "real_sample", "--month", "2018-10")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "119,307" in result.stdout and "12/12 passed" in result.stdout
        row = query_count_and_cost()
        assert row["n"] == 119307
        assert row["cost"] == pytest.approx(4064.483132, abs=1e-6)
    lake_month = finops_home / "buckets/finops-lake/custos/cur/org=real_sample/year=2018/month=10"
    assert [p.suffix for p in lake_month.iterdir()] == [".parquet"]
