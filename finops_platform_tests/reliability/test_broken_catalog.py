"""Issue 16, case 4: a broken catalog entry fails one partition, clearly.

One tenant's `cost_by_tag` partition entry is cut to 100 bytes (as a crash or a full disk
leaves it). `finops query` of that tenant says which file and what to do in one line (exit 2);
the other tenant's queries and `finops sla` rows are unaffected; the next run rebuilds the entry.
"""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load

OCTOBER = dt.date(2018, 10, 1)


def finops(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def broken_entry(
    real_sample: Path, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> Path:
    shutil.copytree(real_sample, tmp_path / "other")
    write_config(
        [
            tenant_entry("alpha", real_sample, first_billing_month="2018-10"),
            tenant_entry("beta", tmp_path / "other", first_billing_month="2018-10"),
        ]
    )
    loaded = load(months=[OCTOBER])
    assert loaded.ok, loaded.reports
    (entry,) = (finops_home / "catalog/custos_alpha_db/cost_by_tag/partitions").rglob("*.json")
    entry.write_bytes(entry.read_bytes()[:100])
    return entry


def test_query_names_the_broken_file_in_one_line(broken_entry: Path) -> None:
    code, out, err = finops("query", "--tenant", "alpha", "SELECT count(*) FROM cost_by_tag")
    assert code == 2, out + err
    assert err.count("\n") == 1, err
    assert str(broken_entry) in err
    assert "rerun" in err
    assert "Traceback" not in out + err


def test_other_tenants_are_unaffected(broken_entry: Path) -> None:
    code, out, err = finops(
        "query", "--tenant", "beta", "--format", "json", "SELECT count(*) AS n FROM cost_by_tag"
    )
    assert code == 0, err
    assert len(json.loads(out)) == 1
    code, out, err = finops("sla", "--format", "json", "--at", "2018-11-01T00:00")
    assert code == 0, err
    assert [row["tenant"] for row in json.loads(out)] == ["alpha", "beta"]
    code, out, err = finops("query", "--tenant", "alpha", "SELECT count(*) FROM tb_cur_raw")
    assert code == 0, err


def test_sla_reports_the_other_tenants_when_a_raw_entry_is_broken(broken_entry: Path) -> None:
    (raw,) = broken_entry.parents[4].joinpath("tb_cur_raw/partitions").rglob("*.json")
    raw.write_bytes(raw.read_bytes()[:100])
    code, out, err = finops("sla", "--format", "json", "--at", "2018-11-01T00:00")
    assert code == 2, err
    assert out, err
    assert [row["tenant"] for row in json.loads(out)] == ["beta"]
    assert err.count("\n") == 1 and "'alpha'" in err and str(raw) in err


def test_the_next_run_rebuilds_the_entry(broken_entry: Path) -> None:
    loaded = load(months=[OCTOBER])
    assert loaded.ok, [(r.org_id, r.error) for r in loaded.reports]
    assert json.loads(broken_entry.read_text())["values"]["org"] == "alpha"
    code, out, err = finops(
        "query", "--tenant", "alpha", "--format", "json", "SELECT count(*) AS n FROM cost_by_tag"
    )
    assert code == 0, err
    assert len(json.loads(out)) == 1
