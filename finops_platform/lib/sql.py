"""Load, render and transpile the SQL files under `sql/`.

Every query is written once in Athena (Trino) SQL. Parameters appear as `{{ name }}`; rendering
puts identifiers in double quotes (after checking them against a strict pattern) and every other
value in as a SQL literal, so configuration never reaches a query as raw text. sqlglot then
transpiles the rendered query to the engine's dialect.

A query can share a piece of SQL with others through `{{ include fragments/<file>.sql }}`,
replaced by that file's text when the query is loaded (before parameters are rendered).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

SQL_ROOT = Path(__file__).resolve().parents[2] / "sql"
_PARAMETER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_INCLUDE = re.compile(r"\{\{\s*include\s+(fragments/[a-z0-9_]+\.sql)\s*\}\}")
_COMMENT_LINE = re.compile(r"^\s*--.*$\n?", re.MULTILINE)


@dataclass(frozen=True)
class Identifier:
    """A database, schema, table or column name to be quoted, never a value."""

    name: str

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.name):
            raise ValueError(f"not a safe SQL identifier: {self.name!r}")


SqlValue = (
    Identifier | str | int | float | Decimal | dt.date | dt.datetime | bool | list[str] | None
)


def _render_value(value: SqlValue) -> str:
    if isinstance(value, Identifier):
        return exp.to_identifier(value.name, quoted=True).sql("athena")
    if isinstance(value, list):
        # Typed, so that an empty list is still an array of strings.
        return f"CAST({exp.convert(value).sql('athena')} AS ARRAY(VARCHAR))"
    return exp.convert(value).sql("athena")


@cache
def load_sql(relative_path: str) -> str:
    """The text of `sql/<relative_path>`, with its fragments included."""
    text = (SQL_ROOT / relative_path).read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: _COMMENT_LINE.sub("", load_sql(m.group(1))).strip(), text)


def render(template: str, params: dict[str, SqlValue]) -> str:
    """Fill `{{ name }}` placeholders; every placeholder must have a value.

    Values the query does not use are ignored, so one partition's parameters serve every file.
    """
    used = set(_PARAMETER.findall(template))
    if missing := used - params.keys():
        raise KeyError(f"SQL parameters without a value: {sorted(missing)}")
    return _PARAMETER.sub(lambda m: _render_value(params[m.group(1)]), template)


def transpile(athena_sql: str, dialect: str) -> str:
    """Athena SQL in the engine's dialect (`athena` returns it unchanged)."""
    if dialect == "athena":
        return athena_sql
    statements = sqlglot.transpile(athena_sql, read="athena", write=dialect)
    if len(statements) != 1:
        raise ValueError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def render_file(relative_path: str, params: dict[str, SqlValue], dialect: str) -> str:
    """Load `sql/<relative_path>`, render its parameters and transpile it to `dialect`."""
    return transpile(render(load_sql(relative_path), params), dialect)
