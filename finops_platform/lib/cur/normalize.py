"""Normalize a CUR delivery (legacy Parquet or CSV, CUR 2.0, the FOCUS export) to the canonical
schema (a FOCUS export through the mapping table of `focus_source`).

One normalization, two engines: the normalizing SELECT is generated once, in Athena (Trino) SQL,
over the delivery registered as tables (`DeliveryTable`: a DuckDB view over the files, or a Glue
table over them), each with a `"$path"` column naming every row's file, as Athena's hidden column
does. Athena runs the text as it is (UNLOAD); the embedded mode runs the same text transpiled by
sqlglot to DuckDB, so the totals proven locally are those of the SQL Athena runs.

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
from finops_platform.lib.cur.focus_source import FOCUS_FORMATS, FocusSchemaProblem, focus_projection
from finops_platform.lib.cur.manifest import FOCUS_MARKER_COLUMNS
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
from finops_platform.lib.sql import transpile
from finops_platform.settings import CurFormat

# The alias of the file being normalized, beside the joins of its flat maps.
SOURCE = '"source"'
# The column of a delivery table naming each row's file: Athena's hidden column, which the
# embedded mode's views supply under the same name.
PATH_COLUMN = '"$path"'
# Legacy names of canonical columns, used when the canonical name is absent.
LEGACY_ALIASES = {"product_region_code": "product_region"}


def _sql_type(arrow_type: pa.DataType) -> str:
    """The Athena type name of an Arrow type (`MAP(VARCHAR, DOUBLE)`)."""
    return engine_type(glue_type(arrow_type), "athena")


class SchemaProblem(ValueError):
    """A file's column set or types cannot be mapped to the canonical schema."""


def _cast(column: str, source: pa.DataType, target: pa.DataType) -> str:
    """`CAST(column AS target)` when the source type can hold the target's values."""
    expr = f"CAST({SOURCE}.{sql_identifier(column)} AS {_sql_type(target)})"
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
        # Optional columns written as text by some exports: the cast fails loudly if a value
        # is not a number or a timestamp.
        return expr
    raise SchemaProblem(f"column {column!r} has type {source}, expected {target}")


# Above this many flat columns a map is built row by row from pieces of this many columns.
WIDE_MAP_COLUMNS = 256


def _legacy_map(prefix: str, names: Sequence[str], value_type: pa.DataType, table: str = "") -> str:
    """A map built from flat legacy columns `<prefix><key>`; empty values are dropped.

    Written as `map_from_entries(filter(ARRAY[CAST(ROW(key, value) AS ROW(...))], e -> ...))`,
    which Trino runs and sqlglot turns into DuckDB's `map_from_entries(list_filter(...))`
    (Trino's `map_filter` has no DuckDB twin)."""
    qualifier = f"{table}." if table else ""
    value = _sql_type(value_type)
    entry = f"ROW(key VARCHAR, value {value})"
    entries = ", ".join(
        f"CAST(ROW({sql_string(name.removeprefix(prefix))}, "
        f"CAST({qualifier}{sql_identifier(name)} AS {value})) AS {entry})"
        for name in names
    )
    keep = "e.value IS NOT NULL"
    if pa.types.is_string(value_type):
        keep += " AND e.value <> ''"
    return f"map_from_entries(filter(ARRAY[{entries}], e -> {keep}))"


@dataclass(frozen=True)
class FlatMap:
    """A map column that a file spreads over flat legacy columns `<prefix><key>`.

    Building a map costs far more than reading its columns (map_from_entries takes about
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
                projection.append((column, f"CAST(MAP() AS {_sql_type(target)})"))
        elif column in REQUIRED_COLUMNS:
            if present.keys() >= FOCUS_MARKER_COLUMNS:
                raise SchemaProblem(
                    "a FOCUS export's file read as CUR (no manifest says it is FOCUS); "
                    "deliver its manifest or set cur_format focus"
                )
            raise SchemaProblem(f"required column {column!r} is missing")
        else:
            projection.append((column, f"CAST(NULL AS {_sql_type(target)})"))
    return projection, flat_maps


@dataclass(frozen=True)
class Lineage:
    format: CurFormat
    assembly_id: str | None
    ingestion_time: dt.datetime


@dataclass(frozen=True)
class DeliveryTable:
    """Files of one schema registered as one table: a DuckDB view over them (embedded) or a
    Glue table over them (Athena). Besides the schema's columns it has `"$path"`, each row's
    file as the delivery names it (`uris`)."""

    name: str
    schema: pa.Schema
    uris: tuple[str, ...]
    # Whether reading some columns again costs little (`SourceGroup.rescan_cheap`).
    rescan_cheap: bool = True
    # What the normalization reads instead of the table itself, when the table holds the
    # schema's columns as text (a CSV delivery in Athena: `csv_source.typed_text_select`).
    typed: str | None = None

    @property
    def read(self) -> str:
        """The relation the normalization reads: the typed columns and `"$path"`."""
        return self.typed or sql_identifier(self.name)


def normalized_select(tables: Sequence[DeliveryTable], lineage: Lineage, where: str) -> str:
    """One Athena SELECT (a UNION ALL over the delivery's tables, one per schema) that yields
    the delivery in the canonical schema."""
    parts = []
    for table in tables:
        read = table.read
        try:
            if lineage.format in FOCUS_FORMATS:
                projection, source = focus_projection(table.schema, read, SOURCE, PATH_COLUMN)
                flat_maps = []
            else:
                projection, flat_maps = file_projection(table.schema, table.rescan_cheap)
                source = f"{read} AS {SOURCE}"
        except (SchemaProblem, FocusSchemaProblem) as exc:
            count = len(table.uris)
            others = f" (and {count - 1} more with its columns)" if count > 1 else ""
            raise DeliveryError(f"{where}: {table.uris[0]}{others}: {exc}") from exc
        lineage_values = {
            "x_source_file": f"{SOURCE}.{PATH_COLUMN}",
            "x_source_format": sql_string(lineage.format),
            "x_assembly_id": sql_string(lineage.assembly_id) if lineage.assembly_id else "NULL",
            "x_ingestion_time": sql_string(lineage.ingestion_time.isoformat(" ")),
        }
        columns = [f"{expr} AS {sql_identifier(name)}" for name, expr in projection]
        columns += [
            f"CAST({value} AS {_sql_type(CANONICAL_COLUMNS[name])}) AS {sql_identifier(name)}"
            for name, value in lineage_values.items()
        ]
        joins = "".join(flat_map.join(read) for flat_map in flat_maps)
        parts.append(f"SELECT {', '.join(columns)} FROM {source}{joins}")
    if not parts:
        return empty_canonical_select()
    return "\nUNION ALL\n".join(parts)


def empty_canonical_select() -> str:
    """An Athena query with the canonical columns and no rows."""
    columns = ", ".join(
        f"CAST(NULL AS {_sql_type(kind)}) AS {sql_identifier(name)}"
        for name, kind in CANONICAL_COLUMNS.items()
    )
    return f"SELECT {columns} WHERE false"


def delivery_tables(groups: Sequence[SourceGroup], prefix: str = "delivery") -> list[DeliveryTable]:
    """The delivery tables of the groups of files, named `<prefix>_<i>`."""
    return [
        DeliveryTable(
            f"{prefix}_{index}",
            group.schema,
            tuple(source.uri for source in group.sources),
            group.rescan_cheap,
        )
        for index, group in enumerate(groups)
    ]


def register_views(
    connection: duckdb.DuckDBPyConnection, groups: Sequence[SourceGroup], prefix: str = "delivery"
) -> list[DeliveryTable]:
    """The groups as DuckDB views, each with `"$path"` mapped from the file DuckDB reads (a local
    copy) to the delivery's URI, as Athena's `"$path"` gives it."""
    tables = delivery_tables(groups, prefix)
    for table, group in zip(tables, groups, strict=True):
        connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {sql_identifier(table.name)} AS "
            f"SELECT *, {_source_uri(group.sources)} AS {PATH_COLUMN} FROM {group.read}"
        )
    return tables


def _source_uri(files: Sequence[SourceFile]) -> str:
    """Each row's file URI, from the scan's `filename` column."""
    if len(files) == 1:
        return sql_string(files[0].uri)
    cases = " ".join(
        f"WHEN {sql_string(str(source.path))} THEN {sql_string(source.uri)}" for source in files
    )
    return f"CASE filename {cases} END"


def write_normalized(
    connection: duckdb.DuckDBPyConnection,
    groups: Sequence[SourceGroup],
    lineage: Lineage,
    output_dir: Path,
    where: str,
) -> list[Path]:
    """Write the delivery, normalized, as Parquet files into `output_dir`; returns the files."""
    tables = register_views(connection, groups)
    select = transpile(normalized_select(tables, lineage, where), "duckdb")
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
            tables = register_views(connection, [group.alone(source)], prefix="blamed")
            single = transpile(normalized_select(tables, lineage, where), "duckdb")
            try:
                connection.execute(f"SELECT bit_xor(hash(t)) FROM ({single}) AS t").fetchall()
            except duckdb.Error as exc:
                first_line = str(exc).splitlines()[0].replace(str(source.path), source.uri)
                return DeliveryError(f"{where}: {source.uri}: cannot read the file: {first_line}")
    return DeliveryError(f"{where}: cannot normalize the delivery: {error}")
