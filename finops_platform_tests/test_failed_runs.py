"""A run that fails midway leaves the previous version of the month readable, and says why."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from finops_platform.cli import main
from finops_platform.defs.common.sql_checks import SqlCheck
from finops_platform.lib.engine import EngineSession
from finops_platform_tests.conftest import WriteConfig, tenant_entry

COUNT = "SELECT count(*) AS n FROM tb_cur_raw WHERE year = 2018 AND month = 10"


def finops(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def loaded_copy(
    real_sample: Path, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> Path:
    """A tenant whose source is a copy of the real sample, with October 2018 loaded once."""
    source = tmp_path / "source"
    shutil.copytree(real_sample, source)
    write_config([tenant_entry("acme", source, cur_format="legacy", first_billing_month="2018-10")])
    assert finops("run", "--tenant", "acme", "--month", "2018-10").exit_code == 0
    return next(source.glob("year=2018/month=10/*.parquet"))


def query(sql: str) -> list[dict]:
    result = finops("query", "--tenant", "acme", "--format", "json", sql)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def rows_visible() -> int:
    return query(COUNT)[0]["n"]


def rewrite(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path)


def test_duplicated_line_items_fail_and_keep_the_previous_month(loaded_copy: Path) -> None:
    table = pq.read_table(loaded_copy)
    rewrite(loaded_copy, pa.concat_tables([table, table.slice(0, 10)]))
    result = finops("run", "--tenant", "acme", "--month", "2018-10")
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert "raw_unique_line_items: 10 line item key(s) occur more than once" in result.output
    assert "the previous version of the month is kept" in result.output
    assert rows_visible() == 119307


def test_missing_required_column_names_tenant_file_and_column(loaded_copy: Path) -> None:
    rewrite(loaded_copy, pq.read_table(loaded_copy).drop_columns(["line_item_unblended_cost"]))
    result = finops("run", "--tenant", "acme", "--month", "2018-10")
    assert result.exit_code == 1
    assert "tenant 'acme', month 2018-10" in result.output
    assert (
        f"{loaded_copy.name}: required column 'line_item_unblended_cost' is missing"
        in result.output
    )
    assert rows_visible() == 119307


def test_wrong_type_of_a_required_column_is_refused(loaded_copy: Path) -> None:
    table = pq.read_table(loaded_copy)
    index = table.schema.get_field_index("line_item_unblended_cost")
    as_text = table.column(index).cast(pa.string())
    rewrite(loaded_copy, table.set_column(index, "line_item_unblended_cost", as_text))
    result = finops("run", "--tenant", "acme", "--month", "2018-10")
    assert result.exit_code == 1
    assert "column 'line_item_unblended_cost' has type string, expected double" in result.output
    assert rows_visible() == 119307


def test_truncated_parquet_is_refused(loaded_copy: Path) -> None:
    data = loaded_copy.read_bytes()
    loaded_copy.write_bytes(data[: len(data) // 2])
    result = finops("run", "--tenant", "acme", "--month", "2018-10")
    assert result.exit_code == 1
    assert f"{loaded_copy.name}: not a readable Parquet file" in result.output
    assert rows_visible() == 119307


def test_rows_outside_the_billing_period_are_refused(loaded_copy: Path) -> None:
    table = pq.read_table(loaded_copy)
    index = table.schema.get_field_index("line_item_usage_start_date")
    shifted = pa.array(
        [None] * 3 + table.column(index).to_pylist()[3:], type=table.schema.field(index).type
    )
    rewrite(loaded_copy, table.set_column(index, "line_item_usage_start_date", shifted))
    result = finops("run", "--tenant", "acme", "--month", "2018-10")
    assert result.exit_code == 1
    assert (
        "raw_partition_validity: 3 row(s) start outside 2018-10-01 to 2018-11-01" in result.output
    )
    assert rows_visible() == 119307


def test_a_curated_result_failing_a_blocking_check_keeps_the_previous_version(
    loaded_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daily = "SELECT CAST(sum(unblended_cost) AS VARCHAR) AS cost FROM cost_daily WHERE month = 10"
    before = query(daily)
    table = pq.read_table(loaded_copy)
    rewrite(loaded_copy, table.slice(0, table.num_rows - 1000))  # a restatement
    real_evaluate = SqlCheck.evaluate

    def reconciliation_fails(
        check: SqlCheck, session: EngineSession, params: dict
    ) -> dg.AssetCheckResult:
        result = real_evaluate(check, session, params)
        if check.name != "reconciles_with_raw":
            return result
        return dg.AssetCheckResult(
            check_name=check.name, passed=False, description=f"FAILED: {check.description}"
        )

    monkeypatch.setattr(SqlCheck, "evaluate", reconciliation_fails)
    result = finops("run", "--tenant", "acme", "--month", "2018-10")
    assert result.exit_code == 1
    assert "blocking check reconciles_with_raw failed; the previous version stays" in result.output
    assert "reconciles_with_raw ERROR" in result.output  # the check's verdict is still recorded
    assert rows_visible() == 119307 - 1000  # the restated raw month passed its own checks
    assert query(daily) == before  # cost_daily was rebuilt, failed, and put back
