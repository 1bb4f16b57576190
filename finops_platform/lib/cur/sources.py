"""A delivery's files as the normalization reads them: grouped by schema, a group one scan.

Whatever the file format, a group is the files that yield the same columns with the same
types, and the SQL table function that reads them (`read_parquet`, `read_csv`); the canonical
projection is built once from the group's schema, so every format goes through one
normalization (`normalize.normalized_select`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.engine.duckdb import sql_string_list


@dataclass(frozen=True)
class SourceFile:
    """A delivery file readable at `path`, reported in lineage as `uri`."""

    path: Path
    uri: str


# (the group's schema, some of its files) -> the table function that reads those files.
Scan = Callable[[pa.Schema, Sequence[SourceFile]], str]


@dataclass(frozen=True)
class SourceGroup:
    """Files that one scan reads: they share `schema`, the columns the scan yields."""

    schema: pa.Schema
    sources: tuple[SourceFile, ...]
    scan: Scan
    # Whether reading some columns again costs little (columnar Parquet), so flat map columns
    # can be read once more to build each distinct map once (`normalize.FlatMap`). A CSV scan
    # parses every field of every row however few it yields: there, one scan that builds each
    # row's maps is faster (1.6 s against 2.2 s for 100,000 legacy rows).
    rescan_cheap: bool = True

    @property
    def read(self) -> str:
        return self.scan(self.schema, self.sources)

    def alone(self, source: SourceFile) -> SourceGroup:
        """The group narrowed to one of its files: to find which one a failed scan choked on."""
        return replace(self, sources=(source,))


def group_by_schema(
    schemas: Iterable[tuple[SourceFile, pa.Schema | None]], scan: Scan, rescan_cheap: bool = True
) -> list[SourceGroup]:
    """The files grouped by identical schema, in delivery order; a file without rows (schema
    None) is left out.

    A delivery's files nearly always share one schema, and one scan over all of them writes
    faster than a UNION ALL branch per file (each branch ends in a partial row group and builds
    its own map lookups: about 10 % more CPU at 10 files).
    """
    groups: list[tuple[pa.Schema, list[SourceFile]]] = []
    for source, schema in schemas:
        if schema is None:
            continue
        same = next((members for known, members in groups if known.equals(schema)), None)
        if same is None:
            groups.append((schema, [source]))
        else:
            same.append(source)
    return [SourceGroup(schema, tuple(members), scan, rescan_cheap) for schema, members in groups]


def _parquet_schema(source: SourceFile, where: str) -> pa.Schema | None:
    """The file's schema; None for a file without rows (CUR 2.0 OVERWRITE mode leaves empty
    chunks)."""
    try:
        metadata = pq.read_metadata(source.path)
    except (OSError, pa.ArrowException) as exc:
        raise DeliveryError(f"{where}: {source.uri}: not a readable Parquet file: {exc}") from exc
    return metadata.schema.to_arrow_schema() if metadata.num_rows else None


def _read_parquet(_schema: pa.Schema, sources: Sequence[SourceFile]) -> str:
    return f"read_parquet({sql_string_list([str(source.path) for source in sources])})"


def parquet_groups(files: Sequence[SourceFile], where: str) -> list[SourceGroup]:
    """Parquet files (legacy or CUR 2.0) grouped by their schema."""
    return group_by_schema(((f, _parquet_schema(f, where)) for f in files), _read_parquet)
