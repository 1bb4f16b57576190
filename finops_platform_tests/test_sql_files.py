"""Every SQL file parses as Athena SQL, transpiles to DuckDB, and filters tb_cur_raw on partitions.

Athena bills by bytes scanned: a query on tb_cur_raw without `year = ... AND month = ...` reads
the tenant's whole history (CID data-collection PR #434). A view (focus_cost) leaves the filter
to its readers, so what it computes per month must be keyed by the month.
"""

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from finops_platform.defs.curated.tables import CURATED_TABLES
from finops_platform.lib.sql import SQL_ROOT, Identifier, load_sql, render, transpile

SQL_FILES = sorted(
    str(path.relative_to(SQL_ROOT))
    for path in SQL_ROOT.rglob("*.sql")
    if "fragments" not in path.parts
)
VIEW_FILES = sorted(spec.sql for spec in CURATED_TABLES if spec.view)
PARTITION_COLUMNS = {"year", "month"}
RAW_TABLE = "tb_cur_raw"


class AnyParams(dict):
    """Placeholder values for every parameter a query names."""

    def __missing__(self, key: str) -> object:
        if key in ("database", "central_database", "relation"):
            return Identifier("custos_a_db")
        if key in ("tag_keys", "tag_match_keys"):
            return ["cost_center"]
        return 1


def rendered(relative_path: str) -> str:
    template = load_sql(relative_path)
    names = set(re.findall(r"\{\{\s*([a-z_]+)\s*\}\}", template))
    params = AnyParams()
    return render(template, {name: params[name] for name in names})


def _reads_raw(select: exp.Select) -> bool:
    return any(
        table.name == RAW_TABLE and table.parent_select is select
        for table in select.find_all(exp.Table)
    )


def unfiltered_raw_scans(sql: str) -> list[str]:
    """The SELECTs that read tb_cur_raw without equality filters on year and month."""
    problems = []
    for select in sqlglot.parse_one(sql, read="athena").find_all(exp.Select):
        if not _reads_raw(select):
            continue
        where = select.args.get("where")
        filtered = {
            column.name
            for eq in (where.find_all(exp.EQ) if where else [])
            for column in eq.find_all(exp.Column)
        }
        if not PARTITION_COLUMNS.issubset(filtered):
            problems.append(select.sql("athena")[:120])
    return problems


def test_there_are_sql_files() -> None:
    assert {"curated/cost_daily.sql", "validation/freshness_sla.sql"} <= set(SQL_FILES)


@pytest.mark.parametrize("relative_path", SQL_FILES)
def test_each_file_has_a_header_and_parses_and_transpiles(relative_path: str) -> None:
    text = (SQL_ROOT / relative_path).read_text()
    assert text.startswith("-- "), "every SQL file opens with a comment saying what it returns"
    sql = rendered(relative_path)
    assert sqlglot.parse_one(sql, read="athena") is not None
    assert transpile(sql, "duckdb")


@pytest.mark.parametrize("relative_path", sorted(set(SQL_FILES) - set(VIEW_FILES)))
def test_queries_on_tb_cur_raw_filter_on_partitions(relative_path: str) -> None:
    assert unfiltered_raw_scans(rendered(relative_path)) == []


@pytest.mark.parametrize("relative_path", VIEW_FILES)
def test_views_over_tb_cur_raw_aggregate_each_month_apart(relative_path: str) -> None:
    """A view reads every month; a lookup it aggregates from tb_cur_raw (a month's priced
    units) must group by the partition columns, or one month's rows would change another's."""
    sql = rendered(relative_path)
    assert "org" in sqlglot.parse_one(sql, read="athena").named_selects  # readers filter on it
    for select in sqlglot.parse_one(sql, read="athena").find_all(exp.Select):
        group = select.args.get("group")
        if _reads_raw(select) and group is not None:
            grouped = {column.name for column in group.find_all(exp.Column)}
            assert PARTITION_COLUMNS | {"org"} <= grouped, select.sql("athena")[:120]


def test_the_view_rule_sees_the_views() -> None:
    assert VIEW_FILES == ["curated/focus_cost.sql"]


def test_the_scan_rule_catches_a_full_scan() -> None:
    assert unfiltered_raw_scans("SELECT count(*) FROM db.tb_cur_raw WHERE org = 'a'")
    assert unfiltered_raw_scans(
        "WITH x AS (SELECT * FROM db.tb_cur_raw) SELECT * FROM x WHERE year = 1 AND month = 1"
    )
    assert not unfiltered_raw_scans(
        "SELECT count(*) FROM db.tb_cur_raw WHERE year = 2026 AND month = 1 AND org = 'a'"
    )


def test_fragments_are_included(tmp_path: Path) -> None:
    assert "{{ include" not in load_sql("curated/cost_daily.sql")
    assert "amortized_cost" in load_sql("curated/cost_daily.sql")
