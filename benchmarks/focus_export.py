"""Workload 7: the FOCUS line items of one tenant-month written to a file, as `finops export
focus_cost --output FILE.parquet` writes them.

`focus_cost` is a view, so the line-item grain costs its time here, not in the run: the month is
first loaded exactly as workload 1 loads it (untimed), then the export is timed. Its peak RSS is
the export's own: the process's high-water mark is reset after the load (Linux `clear_refs`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from benchmarks.home import bench_home
from benchmarks.measure import Timer
from finops_platform.export import export_month
from finops_platform.runner import run_partition

ORG = "bench_org"
TABLE = "focus_cost"


def run(params: dict[str, Any], timer: Timer) -> dict[str, Any]:
    month = dt.date.fromisoformat(params["month"])
    scratch = Path(params["scratch"])
    with bench_home(scratch, {ORG: Path(params["source"])}) as home:
        report = run_partition(home.defs, home.instance, ORG, month)
        if not report.ok or report.rows != params["rows"]:
            raise RuntimeError(f"loading the month failed: {report}")
        database = home.settings.tenants.get(ORG).database
        table = home.defs.resources["catalog"].get_table(database, TABLE)
        if table is None:
            raise RuntimeError(f"the run registered no {TABLE} in {database}")
        target = scratch / f"{TABLE}.parquet"
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here on
        with timer:
            rows = export_month(home.defs.resources["engine"], database, table, month, target)
        return {"rows": rows, "line_items": report.rows, "bytes_written": target.stat().st_size}
