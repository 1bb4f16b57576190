"""The benchmarks' quick mode runs every workload end to end (timings are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

from finops_platform_tests.conftest import REPO_ROOT

SECTIONS = (
    "Tenant-month pipeline, floor and pandas",
    "Scaling of the pipeline",
    "Orchestration overhead",
    "Partition pruning",
    "FOCUS export of the line items (workload 7)",
    "Targets",
)


def test_the_quick_mode_reports_every_workload(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    command = ["benchmarks.run", "--rows", "200000", "--work-dir", str(tmp_path)]
    run = subprocess.run(
        [sys.executable, "-m", *command, "--json", str(results)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a timing assertion (quick mode takes about 1 minute)
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert all(f"## {section}" in run.stdout for section in SECTIONS)
    assert "Quick mode" in run.stdout
    report = json.loads(results.read_text())
    assert set(report["month_workloads"]) == {"10000", "50000", "200000"}
    for workloads in report["month_workloads"].values():
        assert set(workloads) == {"floor", "pipeline", "pandas"}
        assert all(w["seconds"] > 0 and w["peak_rss"] > 0 for w in workloads.values())
    assert report["backfill"]["details"]["partitions"] == 6
    assert report["pruning"]["details"]["whole_table"]["files_read"] == 12
    assert len(report["targets"]) == 7
    export = report["focus_export"]["details"]
    assert export["line_items"] == 200_000 and export["rows"] >= 200_000
    assert export["bytes_written"] > 0
