"""The statsforecast comparison (benchmarks/anomalies_library.py): without the optional library
it stops with a message naming the extra that installs it; with it, a small comparison runs end
to end and scores every model on the same tenant-months (figures are not asserted: BENCHMARKS.md
reports the full run)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finops_platform_tests.conftest import REPO_ROOT


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a timing assertion
        check=False,
    )


def test_without_statsforecast_it_says_how_to_install_it() -> None:
    # A None in sys.modules makes Python's import fail as for an absent package, whatever this
    # environment has installed.
    run = _run(
        "import sys; sys.modules['statsforecast'] = None; "
        "from benchmarks.anomalies_library import main; main(['--tenants', '1'])"
    )
    assert run.returncode == 1
    assert "statsforecast is not installed" in run.stderr
    assert ".[bench-tslib]" in run.stderr


def test_a_small_comparison_scores_every_model_on_the_same_months(tmp_path: Path) -> None:
    pytest.importorskip(
        "statsforecast", reason="statsforecast is optional: pip install -e '.[bench-tslib]'"
    )
    results = tmp_path / "library.json"
    run = _run(
        "from benchmarks.anomalies_library import main; "
        f"main(['--tenants', '1', '--months', '3', '--rows', '2000', '--json', {str(results)!r}])"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "## statsforecast against ours (2 tenant-months" in run.stdout
    reports = json.loads(results.read_text())["reports"]
    assert [r["model"] for r in reports] == [
        "numpy robust statistics (lib/anomalies)",
        "statsforecast AutoETS",
        "statsforecast MSTL",
        "statsforecast AutoARIMA",
        "statsforecast AutoETS (usage series)",
        "statsforecast MSTL (usage series)",
        "statsforecast AutoARIMA (usage series)",
    ]
    for report in reports:
        assert report["tenant_months"] == 2 and report["forecasts_judged"] == 6
        assert all(0 <= m["interval_coverage"] <= 1 for m in report["forecast_mape"].values())
    detected = {r["model"]: r["levels"] for r in reports}
    assert detected["statsforecast AutoETS"] and detected["statsforecast MSTL"]
    # AutoARIMA and the usage-series variants forecast only.
    forecast_only = [m for m in detected if "ARIMA" in m or m.endswith("(usage series)")]
    assert len(forecast_only) == 4 and not any(detected[m] for m in forecast_only)
