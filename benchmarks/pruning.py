"""Workload 6, partition pruning: what a curated query reads for one month versus the year.

Loads 12 months of one tenant through the pipeline (not timed), then runs `cost_daily`'s query
through the engine as the asset does, once as written (one tenant-month) and once with its
`year`/`month` filter removed (the whole 12-month table), with DuckDB's profiler on: bytes read
from storage and Parquet files opened.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from benchmarks.home import bench_home
from benchmarks.measure import Timer
from finops_platform.defs.common.sql_checks import partition_params
from finops_platform.lib.engine.duckdb import DuckDBSession
from finops_platform.lib.sql import load_sql, render
from finops_platform.runner import run_partition

ORG = "bench_org"
QUERY = "curated/cost_daily.sql"


def run(params: dict[str, Any], timer: Timer) -> dict[str, Any]:
    months = [dt.date.fromisoformat(m) for m in params["months"]]
    with bench_home(Path(params["scratch"]), {ORG: Path(params["source"])}) as home:
        for month in months:
            if not run_partition(home.defs, home.instance, ORG, month).ok:
                raise RuntimeError(f"loading {month:%Y-%m} failed")
        tenant = home.settings.tenants.get(ORG)
        one_month = render(load_sql(QUERY), partition_params(tenant, months[-1]))
        engine = home.defs.resources["engine"]
        # A session each, so the second query finds nothing of the first in DuckDB's caches.
        with engine.session(tenant.database) as session, timer:
            month_scan = profiled(session, one_month)
        with engine.session(tenant.database) as session:
            year_scan = profiled(session, without_month_filter(one_month))
    return {
        "months": len(months),
        "rows_per_month": params["rows"],
        "one_month": month_scan,
        "whole_table": year_scan,
        "bytes_ratio": month_scan["bytes_read"] / year_scan["bytes_read"],
    }


def without_month_filter(athena_sql: str) -> str:
    """The query with every `year = ...` and `month = ...` predicate replaced by TRUE."""
    tree = sqlglot.parse_one(athena_sql, read="athena")
    for predicate in list(tree.find_all(exp.EQ)):
        if isinstance(predicate.this, exp.Column) and predicate.this.name in ("year", "month"):
            predicate.replace(exp.true())
    return tree.sql("athena")


def profiled(session: DuckDBSession, athena_sql: str) -> dict[str, Any]:
    """Run the query with DuckDB's profiler; bytes read, files opened, rows scanned."""
    connection = session.connection
    connection.execute("PRAGMA enable_profiling = 'no_output'")
    connection.execute("SET profiling_mode = 'detailed'")
    start = time.perf_counter()
    result_rows = session.query(athena_sql).num_rows
    seconds = time.perf_counter() - start
    profile = json.loads(connection.get_profiling_information(format="json"))
    connection.execute("PRAGMA disable_profiling")
    scans = [op for op in operators(profile) if op.get("type") == "TABLE_SCAN"]
    return {
        "seconds": seconds,
        "result_rows": result_rows,
        "bytes_read": profile["io"]["total_bytes_read"],
        "files_read": sum(int(op["extra_info"].get("Total Files Read", 0)) for op in scans),
        "rows_scanned": sum(op.get("rows_scanned", 0) for op in scans),
    }


def operators(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operator of a DuckDB JSON profile, depth first."""
    children = node.get("operator", []) + node.get("children", [])
    return [child for top in children for child in [top, *operators(top)]]
