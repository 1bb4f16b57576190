"""The anomaly benchmark (its quality part: seconds, without the run overhead) runs end to end
and meets the issue's targets, and the forecast interval its coverage, on the ground truth of
24 shaped tenant-months (timings are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

from finops_platform_tests.conftest import REPO_ROOT


def test_the_quality_targets_are_met_on_the_ground_truth(tmp_path: Path) -> None:
    results = tmp_path / "anomalies.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.anomalies", "--json", str(results)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a timing assertion (it takes seconds)
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "## Anomalies and forecast quality (24 tenant-months)" in run.stdout
    report = json.loads(results.read_text())
    assert report["recall"] >= 0.9 and report["precision"] >= 0.8
    assert report["forecast_improvement_from_day_14"] >= 0.3
    assert set(report["forecast_mape"]) == {"7", "14", "21"}
    # The 90 % interval holds the actual month-end total in at least 80 % of the 72 forecasts
    # (24 tenant-months x day 7, 14 and 21), not the 38-42 % of the spread-only interval.
    assert report["forecasts_judged"] == 72
    assert report["interval_coverage"] >= 0.8
