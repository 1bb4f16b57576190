"""The real October 2018 CUR export loaded as `finops run` loads it, queried, then loaded again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import check_tally, load, query

OCTOBER = dt.date(2018, 10, 1)
COUNT_AND_COST = (
    "SELECT count(*) AS n, sum(line_item_unblended_cost) AS cost FROM tb_cur_raw "
    "WHERE year = 2018 AND month = 10"
)


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
    # Real cost has real anomalies: the first load warns of them (a WARN, the load is ok);
    # loaded again, they are known (continuing), so every check passes.
    for failed in (["new_cost_anomalies WARN"], []):
        loaded = load(["real_sample"], [OCTOBER])
        assert loaded.ok, loaded.reports
        report = loaded.report("real_sample", OCTOBER)
        assert report.rows == 119307
        assert check_tally(report) == (17 - len(failed), 17, failed)
        (row,) = query("real_sample", COUNT_AND_COST)
        assert row["n"] == 119307
        assert row["cost"] == pytest.approx(4064.483132, abs=1e-6)
    anomalies = query("real_sample", "SELECT status, impact, drivers FROM cost_anomalies")
    assert anomalies and all(a["status"] == "continuing" and a["impact"] > 0 for a in anomalies)
    lake_month = finops_home / "buckets/finops-lake/custos/cur/org=real_sample/year=2018/month=10"
    assert [p.suffix for p in lake_month.iterdir()] == [".parquet"]
