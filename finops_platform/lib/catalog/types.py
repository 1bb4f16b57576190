"""Column types: the catalog stores Glue (Hive) type names; engines get their own from sqlglot."""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

_PRIMITIVES: dict[pa.DataType, str] = {
    pa.string(): "string",
    pa.large_string(): "string",
    pa.float64(): "double",
    pa.float32(): "float",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.bool_(): "boolean",
    pa.date32(): "date",
}


def glue_type(arrow_type: pa.DataType) -> str:
    """The Glue/Hive type name of an Arrow type, e.g. `map<string,double>`."""
    if arrow_type in _PRIMITIVES:
        return _PRIMITIVES[arrow_type]
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_map(arrow_type):
        return f"map<{glue_type(arrow_type.key_type)},{glue_type(arrow_type.item_type)}>"
    if pa.types.is_list(arrow_type):
        return f"array<{glue_type(arrow_type.value_type)}>"
    raise TypeError(f"no catalog type for Arrow type {arrow_type}")


def engine_type(glue: str, dialect: str) -> str:
    """A Glue type name in an engine's dialect (`map<string,string>` -> `MAP(TEXT, TEXT)`)."""
    return exp.DataType.build(glue, dialect="hive").sql(dialect)
