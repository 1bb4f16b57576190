"""Issue 16 section 1: user queries cannot change the lake, readers read exactly the published
files, and the cross-org reconciliation checks against each tenant's raw month."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import MATCHES_TENANT_TOTALS
from finops_platform.lib.catalog.base import PUBLISHED_FILES, published_files_parameter
from finops_platform.resources import build_resources
from finops_platform.runner import PartitionReport, run_cross_org
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import check_tally, home_instance, load, query

MONTH = dt.date(2026, 9, 1)
ORGS = ("alpha", "beta")
DAILY_TOTAL = (
    "SELECT org, CAST(sum(amortized_cost) AS VARCHAR) AS cost, sum(line_items) AS line_items "
    "FROM cost_daily WHERE year = 2026 AND month = 9 GROUP BY org ORDER BY org"
)


@pytest.fixture
def lake(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    """Two tenants' September 2026 loaded by the pipeline (raw, curated, cross-org)."""
    entries = []
    for seed, org in enumerate(ORGS, start=3):
        generate_month(tmp_path / org, month=MONTH, rows=3000, fmt="cur2", seed=seed)
        entries.append(tenant_entry(org, tmp_path / org, first_billing_month="2026-01"))
    write_config(entries)
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    return finops_home / "buckets" / "finops-lake" / "custos"


def finops(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def lake_bytes(root: Path) -> dict[str, str]:
    """Every file under the local buckets and the catalog, by path, as a digest."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "dagster" not in path.relative_to(root).parts
    }


def month_folder(lake: Path, *parts: str, org: str = "alpha") -> Path:
    return lake.joinpath(*parts, f"org={org}", f"year={MONTH.year}", f"month={MONTH.month}")


def totals() -> dict[str | None, list[dict]]:
    return {org: query(org, DAILY_TOTAL) for org in (*ORGS, None)}


WRITES = [
    ("COPY", "COPY (SELECT * FROM tb_cur_raw) TO '{raw}/evil.parquet' (FORMAT parquet)"),
    ("COPY", "COPY (SELECT * FROM cost_daily) TO '{daily}/evil.parquet' (FORMAT parquet)"),
    ("ATTACH", "ATTACH '{raw}/evil.duckdb' AS evil"),
    ("CREATE", "CREATE TABLE evil AS SELECT * FROM tb_cur_raw"),
    ("INSERT", "INSERT INTO tb_cur_raw SELECT * FROM tb_cur_raw"),
    ("INSERT", "WITH t AS (SELECT * FROM tb_cur_raw) INSERT INTO tb_cur_raw SELECT * FROM t"),
    ("DROP", "DROP VIEW cost_daily"),
    ("PRAGMA", "PRAGMA enable_profiling"),
    ("SET", "SET enable_external_access = true"),
    ("INSTALL", "INSTALL httpfs"),
    ("LOAD", "LOAD httpfs"),
]


@pytest.mark.parametrize("scope", ["--tenant", "--central"])
def test_writing_statements_are_refused_and_leave_the_lake_unchanged(
    lake: Path, finops_home: Path, scope: str
) -> None:
    before, figures = lake_bytes(finops_home), totals()
    where = {
        "raw": month_folder(lake, "cur"),
        "daily": month_folder(lake, "curated", "cost_daily"),
    }
    target = ["--tenant", "alpha"] if scope == "--tenant" else ["--central"]
    for kind, sql in WRITES:
        code, output = finops("query", *target, sql.format(**where))
        assert (code, output) == (
            2,
            f"refused: {kind} statements are not allowed; queries are read-only\n",
        ), sql
    assert lake_bytes(finops_home) == before
    assert totals() == figures


def test_the_session_itself_can_write_nothing(lake: Path, finops_home: Path) -> None:
    # Past the allow-list (a statement it might miss): the connection refuses the write itself.
    before = lake_bytes(finops_home)
    engine = build_resources(load_settings())["engine"]
    raw, daily = month_folder(lake, "cur"), month_folder(lake, "curated", "cost_daily")
    published = next(daily.glob("*.parquet"))
    with engine.session("custos_alpha_db") as session:
        for sql in (
            f"COPY (SELECT * FROM tb_cur_raw) TO '{raw}/evil.parquet' (FORMAT parquet)",
            f"COPY (SELECT * FROM cost_daily) TO '{published}' (FORMAT parquet)",
            f"ATTACH '{daily}/evil.duckdb' AS evil",
            "SET enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                session.query_native(sql)
        (row,) = session.query_native("SELECT count(*) AS n FROM cost_daily").to_pylist()
        assert row["n"] > 0
    assert lake_bytes(finops_home) == before


def test_curated_partitions_record_their_published_files(lake: Path) -> None:
    catalog = build_resources(load_settings())["catalog"]
    (partition,) = [
        p
        for p in catalog.list_partitions("custos_alpha_db", "cost_daily")
        if p.values["org"] == "alpha"
    ]
    files = partition.published_files()
    folder = month_folder(lake, "curated", "cost_daily")
    assert files == {p.name: p.stat().st_size for p in folder.glob("*.parquet")}
    assert PUBLISHED_FILES in partition.parameters


def test_a_file_dropped_into_a_curated_partition_is_not_read(lake: Path) -> None:
    figures = totals()
    folder = month_folder(lake, "curated", "cost_daily")
    shutil.copy(next(folder.glob("*.parquet")), folder / "evil.parquet")
    (folder / "strings.parquet").write_text("not parquet at all")
    assert totals() == figures
    assert figures["alpha"] and figures[None]
    # Athena would read the whole location: the cross-org reconciliation names the added files.
    report = rebuild_cross_org()
    assert f"{MATCHES_TENANT_TOTALS} ERROR" in check_tally(report)[2], report
    assert totals() == figures


def rebuild_cross_org() -> PartitionReport:
    with home_instance() as instance:
        return run_cross_org(build_definitions(load_settings()), instance, MONTH)


def test_a_falsified_curated_partition_fails_the_cross_org_reconciliation(lake: Path) -> None:
    (before,) = query(
        None, DAILY_TOTAL.replace("GROUP BY org ORDER BY org", "AND org = 'alpha' GROUP BY org")
    )
    (published,) = month_folder(lake, "curated", "cost_daily").glob("*.parquet")
    table = pq.read_table(published)
    for name in ("unblended_cost", "amortized_cost"):
        column = table.column(name)
        doubled = pa.array([None if v is None else 2 * v for v in column.to_pylist()], column.type)
        table = table.set_column(table.schema.get_field_index(name), name, doubled)
    pq.write_table(table, published)
    # Record the falsified file as published, so that only the raw totals can tell.
    catalog = build_resources(load_settings())["catalog"]
    (partition,) = catalog.list_partitions("custos_alpha_db", "cost_daily")
    recorded = published_files_parameter({published.name: published.stat().st_size})
    catalog.upsert_partition(
        "custos_alpha_db", "cost_daily", partition.model_copy(update={"parameters": recorded})
    )

    (after,) = query("alpha", DAILY_TOTAL)
    assert Decimal(after["cost"]) == 2 * Decimal(before["cost"])
    report = rebuild_cross_org()
    assert f"{MATCHES_TENANT_TOTALS} ERROR" in check_tally(report)[2], report
    assert not report.ok
