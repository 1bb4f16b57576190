"""CUR CSV files (legacy gzip or ZIP, unpacked by `unzip`; CUR 2.0 gzip) as the normalization
reads them.

A legacy CSV report names its columns `<category>/<name>` in a header row and types them only
in its manifest (`columns`: `String`, `OptionalBigDecimal`, `DateTime`, `Interval`, ...). Each
file's header is mapped to the Athena column names the Parquet delivery uses
(`names.athena_column`) and typed from the manifest, so the files go through the same
normalization as legacy Parquet. A CUR 2.0 CSV export names its columns as its Parquet does
and types them in its manifest too (`string`, `double`, `timestamp`, `map<string,string>`); its
map columns hold JSON text (`{"user_team":"web"}`), which the scan turns into the maps the
Parquet export has. DuckDB's `read_csv` streams the files with exactly those names and types
(no sniffing). An empty field is NULL where the manifest's type is not a string and stays `''`
where it is, as Parquet writes it. Files whose headers differ (a tag column that only some
files have) are separate groups, as Parquet files of different schemas are.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

from finops_platform.lib.catalog.types import engine_type, glue_type
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.names import athena_column
from finops_platform.lib.cur.schema import DOUBLE_MAP, STRING_MAP, TIMESTAMP
from finops_platform.lib.cur.sources import SourceFile, SourceGroup, group_by_schema
from finops_platform.lib.engine.duckdb import sql_identifier, sql_string, sql_string_list

# The value types of a legacy manifest's `columns`, as the columns are read.
MANIFEST_TYPES: dict[str, pa.DataType] = {
    "String": pa.string(),
    "OptionalString": pa.string(),
    "Interval": pa.string(),  # `2018-10-01T00:00:00Z/2018-10-01T01:00:00Z`, as in Parquet
    "BigDecimal": pa.float64(),
    "OptionalBigDecimal": pa.float64(),
    "DateTime": TIMESTAMP,
    "OptionalDateTime": TIMESTAMP,
}
# The value types of a CUR 2.0 manifest's `columns`.
CUR2_MANIFEST_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "double": pa.float64(),
    "timestamp": TIMESTAMP,
    "map<string,string>": STRING_MAP,
    "map<string,double>": DOUBLE_MAP,
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV format names and types its columns: header -> column name, manifest type ->
    the type the column is read as."""

    column_name: Callable[[str], str]
    types: Mapping[str, pa.DataType]
    naming: str  # whose naming `column_name` follows, for messages


CSV_DIALECTS: dict[str, CsvDialect] = {
    "legacy-csv": CsvDialect(athena_column, MANIFEST_TYPES, "Athena's naming"),
    "cur2-csv": CsvDialect(str, CUR2_MANIFEST_TYPES, "CUR 2.0"),
    # The FOCUS export's CSV: FOCUS column names, typed in its manifest as CUR 2.0's are.
    "focus-csv": CsvDialect(str, CUR2_MANIFEST_TYPES, "FOCUS"),
}


def _gzipped(source: SourceFile) -> bool:
    """A gzip part; the other CSV parts read here are ZIP parts already unpacked to plain CSV."""
    return source.path.suffix.lower() == ".gz"


def _header(source: SourceFile, where: str) -> list[str] | None:
    """The file's header row; None for a file without one (no rows either)."""
    opener = gzip.open if _gzipped(source) else open
    try:
        with opener(source.path, "rt", encoding="utf-8-sig", newline="") as text:
            return next(csv.reader(text), None)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise DeliveryError(f"{where}: {source.uri}: not a readable CSV file: {exc}") from exc


def _inflated(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The inflated bytes of gzip data given in chunks, member after member. zlib checks each
    member's CRC and length; a last member that ends early raises EOFError."""
    inflate, fed = zlib.decompressobj(wbits=31), False
    for chunk in chunks:
        while chunk:
            yield inflate.decompress(chunk)
            fed = True
            chunk = inflate.unused_data if inflate.eof else b""
            if inflate.eof:
                inflate, fed = zlib.decompressobj(wbits=31), False
    if fed:
        raise EOFError("the last gzip member ends early (truncated file)")


def _check_gzip(source: SourceFile, where: str) -> None:
    """Inflate the whole file once, member by member, so a corrupt member fails by file name.

    DuckDB's gzip reader does not check a member's CRC: a damaged byte in a stored block loads
    as a wrong number without any error. zlib checks each member's CRC and length."""
    try:
        with source.path.open("rb") as raw:
            for _ in _inflated(iter(lambda: raw.read(_CHUNK), b"")):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise DeliveryError(f"{where}: {source.uri}: corrupt gzip data: {exc}") from exc


# How much of a gzip CSV file one ranged read fetches from its start for the header row (a
# legacy header of a few hundred columns deflates to a few KB; a longer one takes more reads).
HEADER_READ = 8 * 1024
# A header row longer than this is no CUR's (10,000 tag columns take about 600 KB): a file
# without a line break that early is refused, not read to its end. It bounds both what is read
# (a gzip header's file name field, or empty members, inflate to nothing) and what is inflated.
MAX_HEADER_BYTES = 4 * 1024 * 1024


def gzip_header(
    read_range: Callable[[int, int], bytes], size: int, uri: str, where: str
) -> list[str] | None:
    """The header row of the gzip CSV file `uri` of `size` bytes, read from its start
    (`read_range(first, last)`, inclusive) `HEADER_READ` bytes at a time, only as far as the
    row goes: the rows stay where they lie (Athena reads them). None for a file without one."""
    too_long = f"no header row ends in its first {MAX_HEADER_BYTES:,} bytes"

    def chunks() -> Iterator[bytes]:
        for first in range(0, size, HEADER_READ):
            if first >= MAX_HEADER_BYTES:
                raise EOFError(too_long)
            yield read_range(first, min(first + HEADER_READ, size) - 1)

    text = bytearray()
    try:
        for inflated in _inflated(chunks()):
            end = inflated.find(b"\n")
            text += inflated if end < 0 else inflated[:end]
            if end >= 0:
                break
            if len(text) > MAX_HEADER_BYTES:
                raise EOFError(too_long)
        row = text.decode("utf-8-sig").rstrip("\r")
    except (EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise DeliveryError(f"{where}: {uri}: not a readable gzip CSV file: {exc}") from exc
    return next(csv.reader([row]), None) if row else None


def header_schema(
    header: list[str],
    types: Mapping[str, str],
    dialect: CsvDialect,
    uri: str,
    where: str,
) -> pa.Schema:
    """The canonically named, manifest-typed columns of the file `uri` with this header."""
    fields: dict[str, pa.Field] = {}
    for column in header:
        if column not in types:
            raise DeliveryError(
                f"{where}: {uri}: column {column!r} is not in the manifest's columns"
            )
        if types[column] not in dialect.types:
            raise DeliveryError(
                f"{where}: {uri}: column {column!r} has manifest type {types[column]!r}, "
                f"not one read here ({', '.join(dialect.types)})"
            )
        name = dialect.column_name(column)
        if name in fields:
            raise DeliveryError(
                f"{where}: {uri}: columns {fields[name].metadata[b'header'].decode()!r} "
                f"and {column!r} are both {name!r} in {dialect.naming}"
            )
        kind = dialect.types[types[column]]
        fields[name] = pa.field(name, kind, metadata={"header": column})
    return pa.schema(list(fields.values()))


def _duckdb_type(arrow_type: pa.DataType) -> str:
    return engine_type(glue_type(arrow_type), "duckdb")


def _read_csv(schema: pa.Schema, sources: Sequence[SourceFile]) -> str:
    """`read_csv` of files with `schema`'s header: its names and types, nothing sniffed.

    An empty field is NULL; string columns get their `''` back outside the scan. (DuckDB 2.0.1's
    `force_not_null` does it inside, but applies it to the wrong columns when the scan reads only
    some of them, as the normalization's joins of flat maps do: seen 2026-12, tag maps empty.)
    A map column is read as text and its JSON cast to the map (an empty field is a NULL map)."""
    columns = ", ".join(
        f"{sql_string(f.name)}: "
        f"{sql_string('VARCHAR' if pa.types.is_map(f.type) else _duckdb_type(f.type))}"
        for f in schema
    )
    paths = sql_string_list([str(source.path) for source in sources])
    scan = (
        f"read_csv({paths}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', compression = 'auto', strict_mode = true, columns = {{{columns}}})"
    )
    strings = [sql_identifier(f.name) for f in schema if pa.types.is_string(f.type)]
    maps = [
        (sql_identifier(f.name), _duckdb_type(f.type)) for f in schema if pa.types.is_map(f.type)
    ]
    kept = ", ".join(
        [f"coalesce({name}, '') AS {name}" for name in strings]
        + [f"CAST(CAST({name} AS JSON) AS {kind}) AS {name}" for name, kind in maps]
    )
    return f"(SELECT * {f'REPLACE ({kept}) ' if kept else ''}, filename FROM {scan})"


def csv_groups(
    files: Sequence[SourceFile],
    column_types: Sequence[tuple[str, str]],
    where: str,
    dialect: CsvDialect = CSV_DIALECTS["legacy-csv"],
) -> list[SourceGroup]:
    """CSV files grouped by their header, named by `dialect`, typed by the manifest's
    `column_types` (header -> manifest type). Every gzip file's data is checked whole first."""
    types = dict(column_types)
    schemas = []
    for source in files:
        header = _header(source, where)
        if _gzipped(source):
            _check_gzip(source, where)
        schema = header_schema(header, types, dialect, source.uri, where) if header else None
        schemas.append((source, schema))
    return group_by_schema(schemas, _read_csv, rescan_cheap=False)


# The last column of a CSV delivery table: OpenCSVSerde puts a row's field past its header's
# there (and further ones nowhere), and hands a field the row lacks as NULL.
OVERFLOW_COLUMN = "x_csv_overflow"


def typed_text_select(schema: pa.Schema, read: str, path_column: str) -> str:
    """An Athena query over `read`, a table of `schema`'s columns registered as text (Athena's
    OpenCSVSerde hands every field over as a string), that types them as `_read_csv` reads
    them on the worker: a string keeps its `''`; an empty field of another type is NULL;
    instants are ISO 8601 (`2018-10-01T00:00:00Z`, `...00.000Z`, or with a space for the
    `T`), maps JSON text. With `path_column`, each row's file.

    A blank line is skipped, as the worker's read skips it. A row whose fields are not its
    header's (fewer: its last column NULL; more: something in `OVERFLOW_COLUMN`) fails the
    query naming its file, as the worker's strict read fails; so does a line break inside a
    quoted field, which the worker reads but the serde does not support (its line reader
    splits the row, and one part is short). The message is a text that cannot be cast to a
    number: the one way to raise that both engines share."""
    columns = []
    for field in schema:
        name = sql_identifier(field.name)
        athena = engine_type(glue_type(field.type), "athena")
        if pa.types.is_string(field.type):
            typed = f"coalesce({name}, '')"
        elif pa.types.is_timestamp(field.type):
            instant = f"replace(nullif({name}, ''), ' ', 'T')"
            typed = f"CAST(from_iso8601_timestamp({instant}) AS {athena})"
        elif pa.types.is_map(field.type):
            typed = f"CAST(json_parse(nullif({name}, '')) AS {athena})"
        else:
            typed = f"CAST(nullif({name}, '') AS {athena})"
        columns.append(f"{typed} AS {name}")
    names = [sql_identifier(name) for name in schema.names]
    # The serde hands a blank line over as one empty field (or none).
    blank = f"(coalesce({names[0]}, '') = ''"
    blank += f" AND {names[1]} IS NULL)" if len(names) > 1 else ")"
    ragged = (
        f"CASE WHEN {blank} THEN NULL "
        f"WHEN {names[-1]} IS NULL OR {sql_identifier(OVERFLOW_COLUMN)} IS NOT NULL "
        f"THEN 'a CSV row of ' || {path_column} || "
        f"' does not have its header''s {len(names)} fields' END"
    )
    return (
        f"(SELECT {', '.join(columns)}, {path_column} FROM {read} "
        f"WHERE NOT {blank} AND CAST({ragged} AS DOUBLE) IS NULL)"
    )
