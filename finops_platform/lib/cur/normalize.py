"""Normalize a CUR delivery (legacy Parquet or CSV, CUR 2.0) to the canonical schema, in DuckDB.

Each schema among the source files gets its own projection, built from that schema, so tag columns
that come and go between files (schema drift) never break the union: flat legacy `resource_tags_*`,
`cost_category_*`, `discount_*` and extra `product_*` columns become the CUR 2.0 maps, missing
optional columns become typed NULLs, and every row carries its lineage (source file, format,
assembly id, ingestion time). A missing required column, or one whose type cannot hold the value,
stops the ingest with an error naming the tenant, file and column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from finops_platform.lib.catalog.types import engine_type, glue_type
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.schema import (
    CANONICAL_COLUMNS,
    CUR2_COLUMNS,
    LEGACY_MAP_PREFIXES,
    MAP_COLUMNS,
    PRODUCT_COLUMNS,
    REQUIRED_COLUMNS,
)
from finops_platform.lib.cur.sources import SourceFile, SourceGroup
from finops_platform.lib.engine.duckdb import sql_identifier, sql_string
from finops_platform.settings import CurFormat

# The alias of the file being normalized, beside the joins of its flat maps.
SOURCE = '"source"'
# Legacy names of canonical columns, used when the canonical name is absent.
LEGACY_ALIASES = {"product_region_code": "product_region"}


def _duckdb_type(arrow_type: pa.DataType) -> str:
    return engine_type(glue_type(arrow_type), "duckdb")


class SchemaProblem(ValueError):
    """A file's column set or types cannot be mapped to the canonical schema."""


def _cast(column: str, source: pa.DataType, target: pa.DataType) -> str:
    """`CAST(column AS target)` when the source type can hold the target's values."""
    expr = f"CAST({SOURCE}.{sql_identifier(column)} AS {_duckdb_type(target)})"
    if pa.types.is_null(source) or source == target:
        return expr
    if pa.types.is_string(target) and not pa.types.is_nested(source):
        return expr
    numeric = (
        pa.types.is_integer(source) or pa.types.is_floating(source) or pa.types.is_decimal(source)
    )
    if pa.types.is_floating(target) and numeric:
        return expr
    if pa.types.is_timestamp(target) and (
        pa.types.is_timestamp(source) or pa.types.is_date(source)
    ):
        return expr
    if pa.types.is_map(target) and pa.types.is_map(source):
        return expr
    if pa.types.is_string(source) and column not in REQUIRED_COLUMNS:
        # Optional columns written as text by some exports: DuckDB's cast fails loudly if a
        # value is not a number or a timestamp.
        return expr
    raise SchemaProblem(f"column {column!r} has type {source}, expected {target}")


# Above this many flat columns a map is built row by row from pieces of this many columns.
WIDE_MAP_COLUMNS = 256


def _legacy_map(prefix: str, names: Sequence[str], value_type: pa.DataType, table: str = "") -> str:
    """A DuckDB map built from flat legacy columns `<prefix><key>`; empty values are dropped."""
    qualifier = f"{table}." if table else ""
    entries = ", ".join(
        f"struct_pack(key := {sql_string(name.removeprefix(prefix))}, "
        f"value := CAST({qualifier}{sql_identifier(name)} AS {_duckdb_type(value_type)}))"
        for name in names
    )
    keep = "e.value IS NOT NULL"
    if pa.types.is_string(value_type):
        keep += " AND e.value <> ''"
    return f"map_from_entries(list_filter([{entries}], lambda e: {keep}))"


@dataclass(frozen=True)
class FlatMap:
    """A map column that a file spreads over flat legacy columns `<prefix><key>`.

    Building a DuckDB map costs far more than reading its columns (map_from_entries takes about
    150 ns per entry, and legacy product attributes are 20+ entries a row), while the flat values
    repeat from row to row: product attributes follow the SKU, tags the resource. So each
    distinct combination of the flat columns becomes a map once and is joined back to its rows.
    NULL matches NULL, so every row finds exactly its one combination.
    """

    column: str
    names: tuple[str, ...]

    @property
    def alias(self) -> str:
        return sql_identifier(f"flat_{self.column}")

    def join(self, read: str) -> str:
        """`LEFT JOIN` of the distinct combinations in `read`, with their map as "map"."""
        prefix = LEGACY_MAP_PREFIXES[self.column]
        built = _legacy_map(prefix, self.names, MAP_COLUMNS[self.column].item_type)
        keys = [
            (sql_identifier(name), sql_identifier(f"key_{i}")) for i, name in enumerate(self.names)
        ]
        columns = ", ".join(name for name, _ in keys)
        matched = " AND ".join(
            f"{SOURCE}.{name} IS NOT DISTINCT FROM {self.alias}.{key}" for name, key in keys
        )
        selected = ", ".join(f"{name} AS {key}" for name, key in keys)
        return (
            f' LEFT JOIN (SELECT {built} AS "map", {selected} FROM (SELECT DISTINCT {columns} '
            f"FROM {read})) AS {self.alias} ON {matched}"
        )


def _wide_map(prefix: str, names: Sequence[str], value_type: pa.DataType) -> str:
    """A map over thousands of flat columns (legacy CUR has one per activated tag key), built
    per row as `map_concat` of pieces of `WIDE_MAP_COLUMNS` columns.

    The DISTINCT-and-join of `FlatMap` keeps every column of every distinct row in a hash
    table, and one `map_from_entries` over all columns holds a struct per column for each row
    of a vector: at 10,000 tag columns either exceeds a 2 GB memory limit. Each piece here is
    filtered to its non-empty values before the maps are merged, so memory follows the tags a
    row carries, not the columns a file has. Keys never repeat across pieces (one column each).
    """
    pieces = [
        _legacy_map(prefix, names[start : start + WIDE_MAP_COLUMNS], value_type, SOURCE)
        for start in range(0, len(names), WIDE_MAP_COLUMNS)
    ]
    return pieces[0] if len(pieces) == 1 else f"map_concat({', '.join(pieces)})"


def file_projection(
    schema: pa.Schema, join_flat_maps: bool = True
) -> tuple[list[tuple[str, str]], list[FlatMap]]:
    """(canonical column, SQL expression) for every CUR column, from one file's schema, and
    the flat maps the expressions take from their joins (`FlatMap.join`). Without
    `join_flat_maps` every map is built row by row, from one scan of the files."""
    present = {field.name: field.type for field in schema}
    projection = []
    flat_maps = []
    for column, target in CUR2_COLUMNS.items():
        source_name = column if column in present else LEGACY_ALIASES.get(column)
        if source_name in present:
            projection.append((column, _cast(source_name, present[source_name], target)))
        elif column in MAP_COLUMNS:
            # Legacy CUR (and flat extras in some CUR 2.0 exports) spread a map over columns.
            prefix = LEGACY_MAP_PREFIXES[column]
            flat = sorted(
                name
                for name in present
                if name.startswith(prefix) and not (column == "product" and name in PRODUCT_COLUMNS)
            )
            if len(flat) > WIDE_MAP_COLUMNS or (flat and not join_flat_maps):
                projection.append((column, _wide_map(prefix, flat, target.item_type)))
            elif flat:
                flat_maps.append(FlatMap(column, tuple(flat)))
                projection.append((column, f'{flat_maps[-1].alias}."map"'))
            else:
                projection.append((column, f"CAST(MAP() AS {_duckdb_type(target)})"))
        elif column in REQUIRED_COLUMNS:
            raise SchemaProblem(f"required column {column!r} is missing")
        else:
            projection.append((column, f"CAST(NULL AS {_duckdb_type(target)})"))
    return projection, flat_maps


@dataclass(frozen=True)
class Lineage:
    format: CurFormat
    assembly_id: str | None
    ingestion_time: dt.datetime


def _source_uri(files: Sequence[SourceFile]) -> str:
    """The lineage URI of each row's file, from the scan's `filename` column."""
    if len(files) == 1:
        return sql_string(files[0].uri)
    cases = " ".join(
        f"WHEN {sql_string(str(source.path))} THEN {sql_string(source.uri)}" for source in files
    )
    return f"CASE {SOURCE}.filename {cases} END"


def normalized_select(groups: Sequence[SourceGroup], lineage: Lineage, where: str) -> str:
    """One SELECT (a UNION ALL over groups of files with one schema) that yields the delivery
    in the canonical schema."""
    parts = []
    for group in groups:
        sources = group.sources
        try:
            projection, flat_maps = file_projection(group.schema, group.rescan_cheap)
        except SchemaProblem as exc:
            others = f" (and {len(sources) - 1} more with its columns)" if len(sources) > 1 else ""
            raise DeliveryError(f"{where}: {sources[0].uri}{others}: {exc}") from exc
        lineage_values = {
            "x_source_file": _source_uri(sources),
            "x_source_format": sql_string(lineage.format),
            "x_assembly_id": sql_string(lineage.assembly_id) if lineage.assembly_id else "NULL",
            "x_ingestion_time": f"TIMESTAMP {sql_string(lineage.ingestion_time.isoformat(' '))}",
        }
        columns = [f"{expr} AS {sql_identifier(name)}" for name, expr in projection]
        columns += [
            f"CAST({value} AS {_duckdb_type(CANONICAL_COLUMNS[name])}) AS {sql_identifier(name)}"
            for name, value in lineage_values.items()
        ]
        read = group.read
        joins = "".join(flat_map.join(read) for flat_map in flat_maps)
        parts.append(f"SELECT {', '.join(columns)} FROM {read} AS {SOURCE}{joins}")
    if not parts:
        return empty_canonical_select()
    return "\nUNION ALL\n".join(parts)


def empty_canonical_select() -> str:
    """A query with the canonical columns and no rows."""
    columns = ", ".join(
        f"CAST(NULL AS {_duckdb_type(kind)}) AS {sql_identifier(name)}"
        for name, kind in CANONICAL_COLUMNS.items()
    )
    return f"SELECT {columns} WHERE false"


def write_normalized(
    connection: duckdb.DuckDBPyConnection,
    groups: Sequence[SourceGroup],
    lineage: Lineage,
    output_dir: Path,
    where: str,
) -> list[Path]:
    """Write the delivery, normalized, as Parquet files into `output_dir`; returns the files."""
    select = normalized_select(groups, lineage, where)
    target = sql_string(str(output_dir))
    try:
        connection.execute(
            f"COPY ({select}) TO {target} (FORMAT parquet, COMPRESSION zstd, "
            "FILE_SIZE_BYTES '256MB', ROW_GROUP_SIZE 122880, FILENAME_PATTERN 'part-{i}', "
            "OVERWRITE_OR_IGNORE true)"
        )
    except _DATA_ERRORS as exc:
        raise _blame(connection, groups, lineage, where, exc) from exc
    except duckdb.Error as exc:
        raise DeliveryError(f"{where}: cannot normalize the delivery: {exc}") from exc
    return sorted(output_dir.glob("*.parquet"))


# What a damaged or malformed file raises (not, say, running out of memory).
_DATA_ERRORS = (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)


def _blame(
    connection: duckdb.DuckDBPyConnection,
    groups: Sequence[SourceGroup],
    lineage: Lineage,
    where: str,
    error: duckdb.Error,
) -> DeliveryError:
    """The error of the first file that fails alone, named by its URI: DuckDB names a local
    copy's path, or no file at all (a CSV line that does not parse). Reads each file again, so
    it runs only after a data error."""
    for group in groups:
        for source in group.sources:
            single = normalized_select([group.alone(source)], lineage, where)
            try:
                connection.execute(f"SELECT bit_xor(hash(t)) FROM ({single}) AS t").fetchall()
            except duckdb.Error as exc:
                first_line = str(exc).splitlines()[0].replace(str(source.path), source.uri)
                return DeliveryError(f"{where}: {source.uri}: cannot read the file: {first_line}")
    return DeliveryError(f"{where}: cannot normalize the delivery: {error}")
