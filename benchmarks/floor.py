"""Workload 2, the floor: a bare DuckDB copy of the month, the least work any ingest must do.

The same DuckDB settings as the pipeline's connections (the environment's memory limit and
threads; rows in any order); nothing else: no normalization, no checks, no catalog, no Dagster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from benchmarks.measure import Timer


def run(params: dict[str, Any], timer: Timer) -> dict[str, Any]:
    target = Path(params["scratch"]) / "month.parquet"
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET memory_limit = '{params['memory_limit']}'")
    connection.execute(f"SET threads = {int(params['threads'])}")
    connection.execute("SET preserve_insertion_order = false")
    with timer:
        connection.execute(
            "COPY (SELECT * FROM read_parquet($files)) TO $target (FORMAT parquet)",
            {"files": params["files"], "target": str(target)},
        )
    return {"rows": params["rows"], "bytes_written": target.stat().st_size}
