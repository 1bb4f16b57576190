"""Column descriptions: the README's column tables and the code's (lib/cur/columns.py) say the
same, and they reach `dagster/column_schema` of raw_cur and of a curated partition."""

import datetime as dt
import re
from pathlib import Path

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.lib.cur.columns import (
    AS_IN_COST_DAILY,
    TABLE_ROWS,
    column_descriptions,
    expand,
)
from finops_platform.lib.cur.schema import CANONICAL_COLUMNS
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import REPO_ROOT, WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load

README = REPO_ROOT / "README.md"


def readme_column_tables() -> dict[str, dict[str, str]]:
    """Each README table headed by a line starting `**`<table>`**` and whose header is
    `| column | meaning |`: column -> meaning, a row naming several columns giving each."""
    tables: dict[str, dict[str, str]] = {}
    lines = README.read_text(encoding="utf-8").splitlines()
    current = None
    for index, line in enumerate(lines):
        heading = re.match(r"^\*\*`(\w+)`\*\*", line)
        if heading:
            current = heading.group(1)
        elif line.strip() == "| column | meaning |" and current:
            columns: dict[str, str] = {}
            for row in lines[index + 2 :]:
                if not row.startswith("|"):
                    break
                names, meaning = (cell.strip() for cell in row.strip().strip("|").split(" | ", 1))
                columns.update(dict.fromkeys(re.findall(r"`([^`]+)`", names), meaning))
            tables[current] = columns
            current = None
    return tables


def test_the_readme_and_the_code_describe_the_same_columns_the_same_way() -> None:
    readme = readme_column_tables()
    documented = {table for table in TABLE_ROWS if table != "raw_cur"}
    assert set(readme) == documented
    for table in documented:
        assert readme[table] == expand(TABLE_ROWS[table]), table
    # A raw column the README documents is one the canonical schema has.
    assert set(readme["tb_cur_raw"]) <= set(CANONICAL_COLUMNS)


def test_raw_cur_column_schema_carries_the_descriptions(finops_home: Path) -> None:
    defs = build_definitions(load_settings())
    spec = defs.resolve_assets_def("raw_cur").specs_by_key[dg.AssetKey("raw_cur")]
    schema = spec.metadata["dagster/column_schema"]  # a TableSchema as given
    described = {c.name: c.description for c in schema.columns if c.description}
    assert described == column_descriptions("raw_cur")
    assert described["x_assembly_id"].startswith("the delivery's id in its CUR manifest")


def test_cost_daily_column_schema_carries_the_descriptions(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    from finops_platform.sample import generate_month

    write_config([tenant_entry("beta", tmp_path / "beta", first_billing_month="2026-09")])
    generate_month(tmp_path / "beta", month=dt.date(2026, 9, 1), rows=500, fmt="cur2", seed=1)
    assert load().ok
    instance = dg.DagsterInstance.get()
    for table in ("cost_daily", "cost_by_tag", "cost_monthly_summary"):
        event = instance.get_latest_materialization_event(dg.AssetKey(table))
        schema = event.asset_materialization.metadata["dagster/column_schema"].schema
        described = {c.name: c.description for c in schema.columns}
        expected = column_descriptions(table)
        assert {name: described.get(name) for name in expected} == expected, table
    daily = column_descriptions("cost_daily")
    assert column_descriptions("cost_by_tag")["usage_date"] == daily["usage_date"]
    assert AS_IN_COST_DAILY not in column_descriptions("cost_by_tag").values()
