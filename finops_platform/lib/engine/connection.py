"""DuckDB connections that can read only the files they are given and write only where told.

DuckDB 2.x refuses `SET allowed_paths`/`allowed_directories` once external access is off, and
cannot turn it back on, so a connection opened here cannot be widened by the SQL it later runs.
`allowed_directories` grants writes as well as reads, so readable data is given as exact files
(`allowed_paths`: read, never created or overwritten) and only a write session's staging folder
is a directory (docs/ARCHITECTURE.md, "Tenant isolation").
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb


@contextmanager
def restricted_connection(
    readable: list[Path],
    writable: Sequence[Path] = (),
    *,
    memory_limit: str,
    threads: int,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that reads only the files `readable`, and reads and writes only under
    the folders `writable` (and its own spill dir, removed when the connection closes)."""
    with tempfile.TemporaryDirectory(prefix="finops-duckdb-") as spill:
        connection = duckdb.connect(":memory:")
        try:
            directories = [_as_dir(path) for path in [*writable, Path(spill)]]
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute(f"SET memory_limit = '{_checked_size(memory_limit)}'")
            connection.execute(f"SET threads = {int(threads)}")
            connection.execute("SET temp_directory = ?", [spill])
            connection.execute("SET preserve_insertion_order = false")
            # DuckDB 2.0.1's window_self_join rewrite drops filters on hive partition columns
            # from `SUM(...) OVER (PARTITION BY ...)`: a window over one month summed them all.
            connection.execute("SET disabled_optimizers = 'window_self_join'")
            connection.execute("SET allowed_directories = ?", [directories])
            # The writable folders themselves too (without the slash), so COPY can write into one.
            files = [str(path.resolve()) for path in readable]
            connection.execute(
                "SET allowed_paths = ?", [[*files, *(d.rstrip("/") for d in directories)]]
            )
            connection.execute("SET enable_external_access = false")
            yield connection
        finally:
            connection.close()


def _as_dir(path: Path) -> str:
    return str(path.resolve()).rstrip("/") + "/"


def _checked_size(size: str) -> str:
    if not size.replace(" ", "").rstrip("BKMGTibkmgt").isdigit():
        raise ValueError(f"not a memory size: {size!r} (expected e.g. '2GB')")
    return size
