"""Column types: the catalog stores Glue (Hive) type names; engines get their own from sqlglot."""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp


def glue_type(arrow_type: pa.DataType) -> str:
    """The Glue/Hive type name of an Arrow type, e.g. `map<string,double>`."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_float64(arrow_type):
        return "double"
    if pa.types.is_float32(arrow_type):
        return "float"
    if pa.types.is_int32(arrow_type):
        return "int"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_date(arrow_type):
        return "date"
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
