"""SQL files: identifiers quoted and checked, values as literals, transpiled for DuckDB."""

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from finops_platform.lib.sql import Identifier, render, render_file, transpile, values_query


def test_values_are_literals_and_identifiers_are_quoted() -> None:
    sql = render(
        "SELECT * FROM {{ db }}.t WHERE org = {{ org }} AND d = {{ day }} AND n = {{ n }}",
        {
            "db": Identifier("custos_a_db"),
            "org": "a'; DROP TABLE x; --",
            "day": dt.date(2026, 1, 1),
            "n": 3,
        },
    )
    assert sql == (
        "SELECT * FROM \"custos_a_db\".t WHERE org = 'a''; DROP TABLE x; --' "
        "AND d = CAST('2026-01-01' AS DATE) AND n = 3"
    )


@pytest.mark.parametrize("name", ["a;drop", "x y", '"q"', "../x", ""])
def test_unsafe_identifiers_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        Identifier(name)


def test_every_parameter_needs_a_value() -> None:
    with pytest.raises(KeyError, match="without a value"):
        render("SELECT {{ a }}", {})
    assert render("SELECT {{ a }}", {"a": 1, "unused": 2}) == "SELECT 1"


def test_sql_files_transpile_to_duckdb() -> None:
    sql = render_file(
        "validation/raw_partition_summary.sql",
        {"database": Identifier("custos_a_db"), "org": "a", "year": 2026, "month": 1},
        "duckdb",
    )
    assert 'FROM "custos_a_db".tb_cur_raw' in sql
    assert "WHERE org = 'a' AND year = 2026 AND month = 1" in sql


def test_rows_computed_in_python_become_a_query_of_literals() -> None:
    table = pa.table(
        {
            "day": pa.array([dt.date(2026, 1, 2), None]),
            "key": ["a", "o'b; DROP TABLE x"],
            "cost": [1.5, None],
        }
    )
    query = values_query(table)
    assert duckdb.sql(transpile(query, "duckdb")).fetchall() == [
        (dt.date(2026, 1, 2), "a", 1.5),
        (None, "o'b; DROP TABLE x", None),
    ]
    empty = duckdb.sql(transpile(values_query(table.slice(0, 0)), "duckdb"))
    assert empty.fetchall() == [] and empty.columns == ["day", "key", "cost"]
