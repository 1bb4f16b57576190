"""Reading legacy gzip CSV: headers to Athena names, types from the manifest (not from the text),
empty fields, and damaged or unexpected files failing by file name."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from finops_platform.lib.cur.csv_source import csv_groups
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.sources import SourceFile

WHERE = "tenant 'acme', month 2026-10"
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
