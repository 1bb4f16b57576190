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

import pyarrow as pa
import sqlglot
from sqlglot import exp

from finops_platform.lib.catalog.types import engine_type, glue_type

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


class ReadOnlyError(ValueError):
    """A statement that is not a query (COPY, ATTACH, CREATE, ...): user SQL only reads."""


_READ_ONLY_COMMANDS = ("SHOW", "DESCRIBE")
_READ_ONLY_FIRST_WORDS = ("SELECT", "WITH", "FROM", "(", "VALUES", *_READ_ONLY_COMMANDS)


def read_only_statement(sql: str) -> exp.Expression:
    """The one statement of user-written Athena SQL, if it only reads (SELECT, WITH ... SELECT,
    SHOW, DESCRIBE); anything else raises ReadOnlyError naming its kind.

    A second layer in front of the engine's own sandbox (read-only files, no writable folder),
    so a write is refused before it reaches DuckDB or Athena at all.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except sqlglot.errors.ParseError:
        first = _first_word(sql)
        if first in _READ_ONLY_FIRST_WORDS:
            raise
        raise ReadOnlyError(_refusal(first)) from None
    if len(statements) != 1:
        raise ReadOnlyError(
            f"refused: the SQL has {len(statements)} statements; give exactly one query"
        )
    statement = statements[0]
    if isinstance(statement, exp.Query | exp.Describe):
        return statement
    if isinstance(statement, exp.Command) and str(statement.this).upper() in _READ_ONLY_COMMANDS:
        return statement
    if isinstance(statement, exp.Command):
        raise ReadOnlyError(_refusal(str(statement.this).upper()))
    known = statement.key.upper() if statement.key in _STATEMENT_KEYS else _first_word(sql)
    raise ReadOnlyError(_refusal(known))


# sqlglot node keys that are statements in their own right (named after their keyword).
_STATEMENT_KEYS = {"copy", "create", "insert", "drop", "pragma", "set", "update", "delete"}
_STATEMENT_KEYS |= {"alter", "merge", "use", "attach", "detach", "install", "load", "command"}


def _first_word(sql: str) -> str:
    tokens = sqlglot.Dialect.get_or_raise("athena").tokenize(sql)
    return tokens[0].text.upper() if tokens else ""


def _refusal(kind: str) -> str:
    return f"refused: {kind} statements are not allowed; queries are read-only"


def values_query(table: pa.Table) -> str:
    """Rows computed in Python as an Athena query (`SELECT ... FROM (VALUES ...)`), so a
    small result (anomalies, forecasts) is written by the engine like any query's: the same
    partition swap, catalog entry and both backends. Every value is a SQL literal."""
    names = [exp.to_identifier(name, quoted=True).sql("athena") for name in table.column_names]
    casts = ", ".join(
        f"CAST({name} AS {engine_type(glue_type(field.type), 'athena')}) AS {name}"
        for name, field in zip(names, table.schema, strict=True)
    )
    rows = table.to_pylist() or [dict.fromkeys(table.column_names)]
    values = ", ".join(
        "(" + ", ".join(exp.convert(value).sql("athena") for value in row.values()) + ")"
        for row in rows
    )
    empty = " WHERE false" if table.num_rows == 0 else ""
    return f"SELECT {casts} FROM (VALUES {values}) AS v ({', '.join(names)}){empty}"
