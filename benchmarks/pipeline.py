"""Workload 1: one tenant x month through Dagster, exactly as `finops run` materializes it.

Raw ingest and normalization, the catalog partition, every curated table and every check, in
one in-process Dagster run recorded in a SQLite instance (`runner.run_partition`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from benchmarks.home import bench_home, step_seconds
from benchmarks.measure import Timer
from finops_platform.runner import run_partition

ORG = "bench_org"


def run(params: dict[str, Any], timer: Timer) -> dict[str, Any]:
    month = dt.date.fromisoformat(params["month"])
    with bench_home(Path(params["scratch"]), {ORG: Path(params["source"])}) as home:
        with timer:
            report = run_partition(home.defs, home.instance, ORG, month)
        if not report.ok or report.rows != params["rows"]:
            raise RuntimeError(f"the pipeline run failed: {report}")
        return {"rows": report.rows, "steps": step_seconds(home.instance, report.run_id)}
