"""Consecutive months of a tenant load in one Dagster run over their partition range (a
single-run backfill), and every month is reported, checked and alerted as its own run would be."""

import datetime as dt
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import TENANT_MONTH_CHECKS
from finops_platform.defs.common.partitions import RANGE_START_TAG, partition_key
from finops_platform.defs.raw.assets import RAW_CUR
from finops_platform.runner import consecutive_runs
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.alerts import alert_for_run
from finops_platform_tests.support.slack_receiver import SlackReceiver

MONTHS = [dt.date(2026, 6, 1), dt.date(2026, 7, 1), dt.date(2026, 8, 1)]
# Every check of a tenant x month: raw (5), tb_cur_raw (2: month_complete, layers_agree),
# cost_daily (2), cost_by_tag (2), one per other curated table (2).
CHECKS_PER_PARTITION = len(TENANT_MONTH_CHECKS)


def finops(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def deliveries(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> dict[dt.date, GeneratedDelivery]:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source, first_billing_month="2026-01")])
    return {
        month: generate_month(source, month=month, rows=1000 + 100 * i, fmt="legacy", seed=5)
        for i, month in enumerate(MONTHS)
    }


def test_consecutive_months_are_one_run_reported_month_by_month(
    deliveries: dict[dt.date, GeneratedDelivery],
) -> None:
    result = finops("run", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert "running acme 2026-06..2026-08 ..." in result.output
    with dg.DagsterInstance.get() as instance:
        ranged = [
            run
            for run in instance.get_runs()
            if RANGE_START_TAG in run.tags and run.status == dg.DagsterRunStatus.SUCCESS
        ]
        assert len(ranged) == 1, "the three months should load in one run"
        (run,) = ranged
        for month, delivery in deliveries.items():
            key = partition_key("acme", month)
            (materialization,) = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=RAW_CUR, asset_partitions=[key]), limit=5
            ).records
            assert materialization.run_id == run.run_id
            metadata = materialization.asset_materialization.metadata
            assert metadata["dagster/row_count"].value == delivery.rows
            (summary_row,) = [
                line
                for line in result.output.splitlines()
                if line.startswith("acme ") and f" {month:%Y-%m} " in line
            ]
            assert " ok " in summary_row and f" {delivery.rows:,} " in summary_row
        verdicts = defaultdict(set)
        for record in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            evaluation = record.dagster_event.event_specific_data
            if evaluation.partition is not None:
                verdicts[evaluation.partition].add((evaluation.check_name, evaluation.passed))
    assert set(verdicts) == {str(partition_key("acme", month)) for month in MONTHS}
    for found in verdicts.values():
        assert len(found) == CHECKS_PER_PARTITION
        assert all(passed for _, passed in found), found


def test_a_bad_month_fails_its_range_and_the_others_still_load(
    deliveries: dict[dt.date, GeneratedDelivery],
) -> None:
    july = deliveries[MONTHS[1]].data_files[0]
    july.write_bytes(july.read_bytes()[:200])  # a truncated delivery
    result = finops("run", "--tenant", "acme")
    assert result.exit_code == 1
    with dg.DagsterInstance.get() as instance:
        (ranged,) = [run for run in instance.get_runs() if RANGE_START_TAG in run.tags]
        assert ranged.status == dg.DagsterRunStatus.FAILURE
        (failure,) = instance.all_logs(ranged.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        message = failure.dagster_event.step_failure_data.user_failure_data.description
        assert message.startswith("1 of 3 partition(s) of raw_cur failed: 2026-07-01|acme: ")
    # Then month by month: June and August load, July fails with its own reason.
    loaded = finops(
        "query",
        "--tenant",
        "acme",
        "--format",
        "csv",
        "SELECT month, count(*) AS n FROM tb_cur_raw WHERE year = 2026 AND month IN (6, 7, 8) "
        "GROUP BY month ORDER BY month",
    )
    assert loaded.output.split() == [
        "month,n",
        f"6,{deliveries[MONTHS[0]].rows}",
        f"8,{deliveries[MONTHS[2]].rows}",
    ]
    assert "not a readable Parquet file" in result.output


def test_a_failed_check_in_a_range_alerts_for_its_month_only(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig, slack: SlackReceiver
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source, first_billing_month="2026-01")])
    for month in MONTHS:
        # July's delivery stops on the 20th: a closed month that is not complete.
        until = dt.datetime(2026, 7, 20) if month == MONTHS[1] else None
        generate_month(source, month=month, rows=1000, fmt="legacy", seed=5, until=until)
    assert finops("run", "--tenant", "acme").exit_code == 0  # a WARN check does not fail it
    defs = build_definitions(load_settings())
    with dg.DagsterInstance.get() as instance:
        (run,) = [run for run in instance.get_runs() if RANGE_START_TAG in run.tags]
        alert_for_run(defs, instance, run)
    (message,) = slack.texts()
    assert "month_complete" in message
    assert "tenant acme" in message and "2026-07" in message


def test_months_are_split_into_ranges_where_one_is_missing() -> None:
    months = [dt.date(2026, m, 1) for m in (3, 1, 2, 6)] + [dt.date(2025, 12, 1)]
    assert consecutive_runs(months) == [
        [dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)],
        [dt.date(2026, 6, 1)],
    ]
