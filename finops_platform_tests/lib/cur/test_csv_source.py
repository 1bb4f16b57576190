"""Reading legacy gzip CSV: headers to Athena names, types from the manifest (not from the text),
empty fields, and damaged or unexpected files failing by file name."""

from __future__ import annotations

import csv as std_csv
import gzip
import random
from pathlib import Path

import duckdb
import pytest

from finops_platform.lib.cur.csv_source import (
    HEADER_READ,
    MAX_HEADER_BYTES,
    OVERFLOW_COLUMN,
    csv_groups,
    gzip_header,
    typed_text_select,
)
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.sources import SourceFile
from finops_platform.lib.sql import transpile

WHERE = "tenant 'acme', month 2026-10"
RANDOM = random.Random(7)  # text that does not compress away, the same every run
TYPES = (
    ("identity/LineItemId", "String"),
    ("lineItem/UsageStartDate", "DateTime"),
    ("lineItem/UnblendedCost", "BigDecimal"),
    ("lineItem/NormalizationFactor", "OptionalBigDecimal"),
    ("pricing/RateId", "OptionalString"),
    ("resourceTags/user:cost-center", "OptionalString"),
)
HEADER = ",".join(header for header, _ in TYPES)
ROWS = [
    'a1,2026-10-01T00:00:00Z,0.0000000040,,007,"CC-1, retail"',
    'a2,2026-10-01T01:00:00Z,12.5,4,,""',
]


def write_csv(path: Path, lines: list[str], *, stored: bool = False) -> SourceFile:
    """A gzip CSV file; `stored` keeps the bytes uncompressed inside the gzip member."""
    path.write_bytes(gzip.compress("\n".join(lines).encode() + b"\n", 0 if stored else 9))
    return SourceFile(path, f"s3://bucket/report/{path.name}")


def rows(files: list[SourceFile], types: tuple[tuple[str, str], ...] = TYPES) -> list[tuple]:
    (group,) = csv_groups(files, types, WHERE)
    return duckdb.connect().execute(f"SELECT * EXCLUDE (filename) FROM {group.read}").fetchall()


def test_columns_take_athena_names_and_manifest_types(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "r-1.csv.gz", [HEADER, *ROWS])
    (group,) = csv_groups([source], TYPES, WHERE)
    assert [(f.name, str(f.type)) for f in group.schema] == [
        ("identity_line_item_id", "string"),
        ("line_item_usage_start_date", "timestamp[ms]"),
        ("line_item_unblended_cost", "double"),
        ("line_item_normalization_factor", "double"),
        ("pricing_rate_id", "string"),
        ("resource_tags_user_cost_center", "string"),
    ]
    first, second = rows([source])
    assert first[2:] == (4e-09, None, "007", "CC-1, retail")  # a digit string stays text
    assert second[2:] == (12.5, 4.0, "", "")  # empty: NULL for a number, '' for a string


def test_a_header_outside_the_manifest_is_refused_by_name(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "r-1.csv.gz", [HEADER + ",resourceTags/user:team", ROWS[0] + ",x"]
    )
    with pytest.raises(DeliveryError) as error:
        csv_groups([source], TYPES, WHERE)
    assert str(error.value) == (
        f"{WHERE}: s3://bucket/report/r-1.csv.gz: column 'resourceTags/user:team' is not in the "
        "manifest's columns"
    )


def test_an_unknown_manifest_type_is_refused_by_name(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "r-1.csv.gz", [HEADER, ROWS[0]])
    types = (*TYPES[:-1], ("resourceTags/user:cost-center", "Blob"))
    with pytest.raises(DeliveryError, match="column 'resourceTags/user:cost-center' has manifest"):
        csv_groups([source], types, WHERE)


def test_two_headers_with_one_athena_name_are_refused(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "r-1.csv.gz", [HEADER + ",resourceTags/user:Cost Center"])
    types = (*TYPES, ("resourceTags/user:Cost Center", "OptionalString"))
    with pytest.raises(DeliveryError) as error:
        csv_groups([source], types, WHERE)
    assert "columns 'resourceTags/user:cost-center' and 'resourceTags/user:Cost Center' are " in (
        str(error.value)
    )


def test_files_with_another_header_are_another_group(tmp_path: Path) -> None:
    same = [write_csv(tmp_path / f"r-{i}.csv.gz", [HEADER, ROWS[i - 1]]) for i in (1, 2)]
    fewer = write_csv(
        tmp_path / "r-3.csv.gz", ["identity/LineItemId,lineItem/UnblendedCost", "a,1"]
    )
    empty = write_csv(tmp_path / "r-4.csv.gz", [])
    groups = csv_groups([*same, fewer, empty], TYPES, WHERE)
    assert [[s.uri for s in g.sources] for g in groups] == [
        [same[0].uri, same[1].uri],
        [fewer.uri],
    ]


def test_a_damaged_gzip_member_fails_by_file_name(tmp_path: Path) -> None:
    """A changed byte in a stored block inflates without error (DuckDB would load `9.5` for
    `2.5`); the member's CRC does not match, and the file is named."""
    good = write_csv(tmp_path / "r-1.csv.gz", [HEADER, *ROWS])
    member = gzip.compress(f"{HEADER}\n{ROWS[1]}\n".encode(), 0)
    damaged = bytearray(member + gzip.compress(b"a3,2026-10-01T02:00:00Z,2.5,,,\n", 0))
    damaged[damaged.rindex(b"2.5")] = ord("9")
    bad = tmp_path / "r-2.csv.gz"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(DeliveryError) as error:
        csv_groups([good, SourceFile(bad, "s3://bucket/report/r-2.csv.gz")], TYPES, WHERE)
    assert str(error.value).startswith(
        f"{WHERE}: s3://bucket/report/r-2.csv.gz: corrupt gzip data: "
    )
    bad.write_bytes(bytes(damaged[:-20]))  # cut in the last member: a truncated file
    with pytest.raises(DeliveryError, match=r"r-2\.csv\.gz: corrupt gzip data: .*truncated"):
        csv_groups([SourceFile(bad, "s3://bucket/report/r-2.csv.gz")], TYPES, WHERE)


class RangeReads:
    """`read_range` over a local file, recording each (first, last) asked for, as the S3
    store's ranged GETs of a delivery file's start."""

    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()
        self.calls: list[tuple[int, int]] = []

    def __call__(self, first: int, last: int) -> bytes:
        self.calls.append((first, last))
        return self.data[first : last + 1]


def header_of(path: Path) -> tuple[list[str] | None, RangeReads]:
    reads = RangeReads(path)
    return gzip_header(reads, len(reads.data), f"s3://bucket/report/{path.name}", WHERE), reads


def test_the_header_row_is_read_from_the_first_bytes_only(tmp_path: Path) -> None:
    """Athena reads the rows; the worker reads one `HEADER_READ` of each file's start for its
    header (a byte-order mark is not part of the first name)."""
    lines = [HEADER, *[f"{RANDOM.getrandbits(128):x},{ROWS[0][3:]}" for _ in range(5_000)]]
    path = tmp_path / "r-1.csv.gz"
    path.write_bytes(gzip.compress(("\ufeff" + "\n".join(lines) + "\n").encode()))
    header, reads = header_of(path)
    assert header == [name for name, _ in TYPES]
    assert reads.calls == [(0, HEADER_READ - 1)] and len(reads.data) > 10 * HEADER_READ


def test_a_header_longer_than_one_read_takes_as_many_as_it_needs(tmp_path: Path) -> None:
    """A legacy report with thousands of tag columns: the reads go on, contiguous, until the
    header's line ends, and no further."""
    tags = [f"resourceTags/user:{RANDOM.getrandbits(64):x}" for _ in range(3_000)]
    body = "\n".join(f"{i}," + ",".join("x" for _ in tags) for i in range(2_000))
    path = tmp_path / "wide.csv.gz"
    path.write_bytes(gzip.compress(("id," + ",".join(tags) + "\n" + body).encode()))
    header, reads = header_of(path)
    assert header == ["id", *tags]
    assert len(reads.calls) > 1
    assert reads.calls == [
        (first, first + HEADER_READ - 1)
        for first in range(0, len(reads.calls) * HEADER_READ, HEADER_READ)
    ]
    assert reads.calls[-1][1] < len(reads.data) - 1


def test_a_file_without_a_header_or_not_gzip_at_all(tmp_path: Path) -> None:
    """An empty part (no header, no rows) is left out; a part whose first line never ends, or
    that is not gzip, fails by name."""
    empty = tmp_path / "empty.csv.gz"
    empty.write_bytes(gzip.compress(b""))
    assert header_of(empty)[0] is None
    empty.write_bytes(b"")
    assert header_of(empty)[0] is None
    endless = tmp_path / "endless.csv.gz"
    endless.write_bytes(gzip.compress(b"x," * (MAX_HEADER_BYTES // 2 + 10)))
    with pytest.raises(DeliveryError, match=r"endless\.csv\.gz: .*no header row ends in its"):
        header_of(endless)
    plain = tmp_path / "plain.csv.gz"
    plain.write_text(HEADER + "\n")
    with pytest.raises(DeliveryError) as error:
        header_of(plain)
    assert str(error.value).startswith(
        f"{WHERE}: s3://bucket/report/plain.csv.gz: not a readable gzip CSV file: "
    )


def serde_table(
    connection: duckdb.DuckDBPyConnection, lines: list[str], names: list[str], uri: str
) -> None:
    """`text_table`: the rows after the header as Athena's OpenCSVSerde hands them over (Hive's
    `OpenCSVSerde.deserialize`): every field text, a field the row lacks NULL, the first one
    past the header's in the table's last column (`OVERFLOW_COLUMN`), further ones dropped;
    each line parsed alone, as the serde's line reader splits the file."""
    width = len(names)
    values = []
    for line in lines[1:]:
        fields = next(std_csv.reader([line])) or [""]  # a blank line is one empty field
        padded = [*fields[: width + 1], *[None] * (width + 1 - len(fields))]
        values.append(tuple(padded))
    columns = [*names, OVERFLOW_COLUMN]
    declared = ", ".join(f'"{column}" VARCHAR' for column in columns)
    connection.execute(f"CREATE TABLE text_table ({declared})")
    connection.executemany(
        f"INSERT INTO text_table VALUES ({', '.join('?' for _ in columns)})", values
    )
    connection.execute(f"CREATE VIEW text_rows AS SELECT *, '{uri}' AS \"$path\" FROM text_table")


def typed_by_athena(lines: list[str], tmp_path: Path) -> list[tuple]:
    """The rows of the gzip CSV file of `lines` as Athena types them (typed_text_select, run on
    DuckDB over the serde's text)."""
    source = write_csv(tmp_path / "r-1.csv.gz", lines)
    (group,) = csv_groups([source], TYPES, WHERE)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    serde_table(connection, lines, group.schema.names, source.uri)
    typed = transpile(typed_text_select(group.schema, "text_rows", '"$path"'), "duckdb")
    return connection.execute(f'SELECT * EXCLUDE ("$path") FROM {typed}').fetchall()


def test_the_header_is_not_looked_for_past_the_first_bytes_however_they_inflate(
    tmp_path: Path,
) -> None:
    """Gzip members that inflate to nothing (empty ones, or one long file name field in a
    member's header) do not make the worker read a part to its end: the reads stop at
    `MAX_HEADER_BYTES` of the file."""
    hollow = tmp_path / "hollow.csv.gz"
    hollow.write_bytes(gzip.compress(b"") * (MAX_HEADER_BYTES // 20 + 1_000))
    with pytest.raises(DeliveryError, match=r"hollow\.csv\.gz: .*no header row ends in its"):
        header_of(hollow)
    reads = RangeReads(hollow)
    with pytest.raises(DeliveryError):
        gzip_header(reads, len(reads.data), "s3://bucket/report/hollow.csv.gz", WHERE)
    assert reads.calls[-1][1] < MAX_HEADER_BYTES < len(reads.data)


def test_athena_types_the_text_as_the_worker_reads_it(tmp_path: Path) -> None:
    """OpenCSVSerde hands Athena every field as text (an empty one as ''): the typing query,
    run on DuckDB over the same file read that way, gives the worker's rows exactly (empty
    numbers NULL, empty strings '', instants with a `T` or a space, the `007` kept as text,
    a quoted comma and a doubled quote, a blank line skipped)."""
    lines = [HEADER, *ROWS, "", 'a3,2026-10-01 02:00:00,1,,"say ""hi""",x']
    source = write_csv(tmp_path / "worker.csv.gz", lines)
    assert typed_by_athena(lines, tmp_path) == rows([source])


@pytest.mark.parametrize(
    "row",
    [
        ["a3,2026-10-01T02:00:00Z,1,,"],
        ["a3,2026-10-01T02:00:00Z,1,,,x,surplus"],
        ['a3,2026-10-01T02:00:00Z,1,,"a line', 'break",x'],
    ],
    ids=["a field short", "a field over", "a quoted line break"],
)
def test_a_row_without_its_headers_fields_fails_naming_its_file(row: str, tmp_path: Path) -> None:
    """The worker's strict read refuses a row whose fields are not its header's; OpenCSVSerde
    would pad it with NULL or drop the surplus, so the typing query refuses it instead, naming
    the file. A quoted line break, which the worker reads but the serde does not (it splits
    the row in two, one of them short), fails the month by name too."""
    lines = [HEADER, *ROWS, *row, *ROWS]
    with pytest.raises(
        duckdb.Error,
        match=r"a CSV row of s3://bucket/report/r-1\.csv\.gz does not "
        r"have its header's 6 fields",
    ):
        typed_by_athena(lines, tmp_path)
