"""`python -m benchmarks.anomalies_library`: statsforecast's models against ours (lib/anomalies)
on the same ground truth as `python -m benchmarks.anomalies` (the same shaped tenant-months,
seeds, thresholds and scoring: its `measure`), side by side, so the library choice is measured.

- Forecast: each model fits the tenant's daily total (all charges, as ours reads it) from the
  first day of history through the cut-off day (7, 14, 21) with a weekly season
  (season_length=7) and forecasts the days left; month-end total = cost so far + the sum of the
  forecasts. The 90 % interval of that sum is the sum of the days' 90 % bounds (statsforecast
  gives per-day intervals only; summing them assumes the days' errors move together, the widest
  reading), its lower end held at the cost so far as ours is. The daily total carries each
  month's first-day fees (reservations, Savings Plans: about two weeks' usage in the shaped data),
  which a weekly season cannot model and which ours passes over with medians; so each model is
  also run on the usage series ("(usage series)": the same forecast of the usage of the days
  left, plus the other charges (daily credits) of the days left at their median of the last
  MEDIAN_DAYS days), the library at its best on these data.
- Detection: each key of each level (usage only, as ours) is fitted once over its whole series
  to the judged month's end with `fitted=True`; the in-sample one-step fitted value is the
  expected cost and the upper end of the in-sample interval at the level of `sensitivity`
  standard deviations (3: 99.73 %; `--band-sigma` sets another for the library only) the band.
  A day is an anomaly by the rule ours applies: above the band, and its impact reaches
  `min_impact` and `min_impact_pct`. Drivers are ours
  (`lib.anomalies.detect.drivers`), so the precision's "explained by" reads the same text.
- Time: model seconds per tenant-month, the first call's loading excluded (one call of each
  model on a small series first); `--weight` measures the install weight, import and first-call
  time instead (statsforecast 1.x compiled its models with numba on the first call; 2.x ships
  them compiled, and the figure says so).

statsforecast is optional (`pip install -e '.[bench-tslib]'`): without it this exits with a
message saying so; the assets never import it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.anomalies import OURS, SETTINGS, Model, measure
from finops_platform.lib.anomalies.detect import Anomaly, drivers
from finops_platform.lib.anomalies.forecast import Forecast
from finops_platform.lib.anomalies.series import LEVEL_COLUMNS, Rows, matrix
from finops_platform.months import last_day
from finops_platform.settings import AnomalySettings

SEASON = 7
FORECAST_LEVEL = 90
FORECAST_MODELS = ("AutoETS", "MSTL", "AutoARIMA")
DETECT_MODELS = ("AutoETS", "MSTL")
DETECT_LEVELS = ("total", "service", "account", "usage_type")
# The days whose median other charges (credits, fees) the usage-series forecast carries forward.
MEDIAN_DAYS = 28
MISSING = (
    "statsforecast is not installed: `pip install -e '.[bench-tslib]'` installs the version "
    "this benchmark measured (it is no dependency of the platform)"
)


def statsforecast_models() -> Any:
    """statsforecast.models, imported only when a benchmark asks for it."""
    try:
        import statsforecast.models as models
    except ImportError as error:
        raise SystemExit(MISSING) from error
    return models


def band_level(sensitivity: float) -> float:
    """The two-sided interval level (%) whose ends lie `sensitivity` standard deviations out."""
    return round(100 * math.erf(sensitivity / math.sqrt(2)), 2)


@dataclass
class Library:
    """One statsforecast model as a detector and a month-end total forecaster."""

    name: str
    make: Callable[[], Any]  # a fresh, unfitted model
    usage_series: bool = False  # forecast usage; other charges of the days left at their median
    band_sigma: float | None = None  # the detection band, if not the tenant's sensitivity
    failed_fits: int = 0  # keys whose fit raised: not judged

    def model(self, detects: bool) -> Model:
        name = f"statsforecast {self.name}" + (" (usage series)" if self.usage_series else "")
        return Model(name, self.detect if detects else None, self.forecast_total)

    def forecast_total(self, rows: Rows, first: dt.date, month: dt.date, cut: dt.date) -> Forecast:
        start = np.datetime64(rows.first_day(first))
        known = int((np.datetime64(cut) - start).astype(int)) + 1
        month_begin = max(int((np.datetime64(month) - start).astype(int)), 0)
        cost = matrix(rows, "total", start, known).cost.sum(axis=0)
        so_far = float(cost[month_begin:].sum())
        left = last_day(month).day - cut.day
        fitted, base = cost, so_far
        if self.usage_series:  # the first day's fees out of the series; credits go on daily
            fitted = matrix(rows, "total", start, known, rows.usage).cost.sum(axis=0)
            base += left * float(np.median((cost - fitted)[-MEDIAN_DAYS:]))
        out = self.make().forecast(y=fitted, h=left, level=[FORECAST_LEVEL]) if left else {}
        total = base + float(np.sum(out.get("mean", 0.0)))
        return Forecast(
            level="total",
            key="",
            complete_days=cut.day,
            days_in_month=last_day(month).day,
            actual_to_date=so_far,
            forecast=total,
            lower=max(base + float(np.sum(out.get(f"lo-{FORECAST_LEVEL}", 0.0))), so_far),
            upper=max(base + float(np.sum(out.get(f"hi-{FORECAST_LEVEL}", 0.0))), so_far),
            run_rate=so_far / cut.day * last_day(month).day,
        )

    def detect(
        self,
        rows: Rows,
        first: dt.date,
        judged: tuple[dt.date, dt.date],
        settings: AnomalySettings,
    ) -> list[Anomaly]:
        start = np.datetime64(rows.first_day(first))
        days = int((np.datetime64(judged[1]) - start).astype(int)) + 1
        begin = max(int((np.datetime64(judged[0]) - start).astype(int)), 1)
        level_pct = band_level(self.band_sigma or settings.sensitivity)
        found = []
        for level in LEVEL_COLUMNS:
            level_matrix = matrix(rows, level, start, days, rows.usage if level != "tag" else None)
            for key, series in zip(level_matrix.keys, level_matrix.cost, strict=True):
                if series[begin:].max(initial=0) < settings.min_impact:
                    continue  # as ours: nothing it costs on a judged day reaches the minimum
                try:
                    fit = self.make().forecast(y=series, h=1, level=[level_pct], fitted=True)
                except Exception:  # a fit the library refuses is counted, not fatal
                    self.failed_fits += 1
                    continue
                expected, upper = fit["fitted"], fit[f"fitted-hi-{level_pct}"]
                for day in range(begin, days):
                    anomaly = _anomaly(series[day], expected[day], upper[day], settings)
                    if anomaly is not None:
                        found.append(
                            Anomaly(
                                usage_date=level_matrix.day(day),
                                level=level,
                                key=str(key),
                                **anomaly,
                                drivers=drivers(
                                    rows, level_matrix, str(key), day, anomaly["impact"]
                                ),
                            )
                        )
        return found


def _anomaly(
    actual: float, expected: float, upper: float, settings: AnomalySettings
) -> dict[str, Any] | None:
    """The figures of an anomalous day by our rule (lib/anomalies/detect.py), else None."""
    if not (np.isfinite(expected) and np.isfinite(upper)):
        return None  # the model gave no fitted value for the day
    impact = float(actual - expected)
    pct = 100 * impact / expected if expected > 0 else None
    if actual <= upper or impact < settings.min_impact:
        return None
    if pct is not None and pct < settings.min_impact_pct:
        return None
    return {
        "actual": float(actual),
        "expected": float(expected),
        "lower": max(float(2 * expected - upper), 0.0),
        "upper": float(upper),
        "impact": impact,
        "impact_pct": pct,
    }


def libraries(
    names: set[str], usage_series: bool = False, band_sigma: float | None = None
) -> dict[str, Library]:
    models = statsforecast_models()
    factories = {
        "AutoETS": lambda: models.AutoETS(season_length=SEASON),
        "MSTL": lambda: models.MSTL(season_length=SEASON),
        "AutoARIMA": lambda: models.AutoARIMA(season_length=SEASON),
    }
    return {
        name: Library(name, factories[name], usage_series, band_sigma)
        for name in factories
        if name in names
    }


def _sample(days: int = 90, seed: int = 0) -> np.ndarray:
    """A daily series with a trend and a weekly season, for warm-ups and JIT timing."""
    t = np.arange(days)
    noise = np.random.default_rng(seed).normal(0, 3, days)
    return 100 + 0.2 * t + 15 * np.sin(2 * np.pi * t / SEASON) + noise


def compare(
    tenants: int,
    months: int,
    rows: int,
    names: list[str],
    detectors: list[str],
    band_sigma: float | None = None,
) -> tuple[list[dict], dict[str, int]]:
    """The reports of ours and of each statsforecast model `names` (forecasting; detecting too
    when in `detectors`, with its band `band_sigma` standard deviations out, by default the
    sensitivity ours uses) over the same spans, and the fits each could not make."""
    found = libraries(set(names), band_sigma=band_sigma)
    for library in found.values():  # the first call loads and compiles: not the model's time
        library.make().forecast(y=_sample(), h=7, level=[FORECAST_LEVEL, 99.73], fitted=True)
    on_usage = libraries(set(names), usage_series=True)
    models = [
        OURS,
        *(found[name].model(name in detectors) for name in found),
        *(library.model(False) for library in on_usage.values()),
    ]
    with tempfile.TemporaryDirectory() as folder:
        reports = measure(Path(folder), tenants, months, rows, models)
    return reports, {f"statsforecast {n}": lib.failed_fits for n, lib in found.items()}


def _share(value: float | None, form: str = ".2f") -> str:
    return "-" if value is None else format(value, form)


def _per_level(level: dict | None) -> str:
    if not level:
        return "-"
    return (
        f"{_share(level['precision'])} / {_share(level['recall'])} ({level['reported']} reported)"
    )


def tables(reports: list[dict], failed: dict[str, int], band_sigma: float) -> str:
    """Detection per level and forecast per cut-off day, one row per model."""
    lines = [
        f"## statsforecast against ours ({reports[0]['tenant_months']} tenant-months; "
        f"min_impact {SETTINGS.min_impact}, min_impact_pct {SETTINGS.min_impact_pct}, "
        f"ours at sensitivity {SETTINGS.sensitivity}, the library's band {band_sigma} sigma "
        f"= its {band_level(band_sigma)} % in-sample interval)",
        "",
        "| model | total P / R | service P / R | account P / R | usage_type P / R "
        "| all P / R | detect s / tenant-month |",
        "| --- | --- | --- | --- | --- | --- | ---: |",
    ]
    for r in reports:
        if r["levels"]:
            cells = [_per_level(r["levels"].get(level)) for level in DETECT_LEVELS]
            lines.append(
                f"| {r['model']} | {' | '.join(cells)} | {_share(r['precision'])} / "
                f"{_share(r['recall'])} | {r['detect_seconds_per_tenant_month']:.3f} |"
            )
    lines += [
        "",
        "| model | MAPE from day 7 / 14 / 21 | 90 % interval holds actual, day 7 / 14 / 21 (all) "
        "| interval width / actual, day 7 / 14 / 21 | forecast s / tenant-month |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for r in reports:
        days = r["forecast_mape"].values()
        lines.append(
            f"| {r['model']} | {' / '.join(_share(m['model'], '.1%') for m in days)} "
            f"| {' / '.join(_share(m['interval_coverage'], '.0%') for m in days)} "
            f"({r['interval_coverage']:.0%}) "
            f"| {' / '.join(_share(m['interval_width'], '.1%') for m in days)} "
            f"| {r['forecast_seconds_per_tenant_month']:.3f} |"
        )
    naive = reports[0]["forecast_mape"].values()
    lines.append(
        f"| naive run rate | {' / '.join(_share(m['naive'], '.1%') for m in naive)} | - | - | - |"
    )
    if any(failed.values()):
        lines += ["", f"Fits the library refused (those keys not judged): {json.dumps(failed)}"]
    return "\n".join(lines)


# --- install weight ------------------------------------------------------------------------


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(names: list[str]) -> set[str]:
    """The installed distributions `names` need, their own dependencies included (no extras)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = _canonical(stack.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                stack.append(requirement.name)
    return seen


def installed_bytes(name: str) -> int:
    """What a distribution's files (those its RECORD lists, bytecode included) take on disk."""
    dist = metadata.distribution(name)
    paths = (Path(str(dist.locate_file(f))) for f in dist.files or [])
    return sum(p.stat().st_size for p in paths if p.is_file())


def _median_seconds(code: str, runs: int) -> float:
    """Median of what `code` prints (seconds) over `runs` fresh interpreters."""
    values = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
        for _ in range(runs)
    ]
    return statistics.median(values)


def _import_code(module: str) -> str:
    return f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def _jit_code(name: str) -> str:
    return (
        "import time, json; import benchmarks.anomalies_library as b; "
        f"lib = b.libraries({{{name!r}}})[{name!r}]; y = b._sample(); times = []\n"
        "for _ in range(2):\n"
        "    t = time.perf_counter()\n"
        "    lib.make().forecast(y=y, h=14, level=[90], fitted=True)\n"
        "    times.append(time.perf_counter() - t)\n"
        "print(times[0] - times[1])"
    )


def weight(runs: int = 5) -> dict:
    """The distributions statsforecast adds to the platform's own, their size, and the import
    and first-call (JIT) time, each a median over `runs` fresh interpreters."""
    statsforecast_models()
    ours = closure(["finops-platform"])
    extra = sorted(closure(["statsforecast"]) - ours)
    sizes = {name: installed_bytes(name) for name in extra}
    return {
        "statsforecast": metadata.version("statsforecast"),
        "extra_distributions": {
            name: {"version": metadata.version(name), "mb": round(size / 1e6, 1)}
            for name, size in sorted(sizes.items(), key=lambda item: -item[1])
        },
        "extra_mb": round(sum(sizes.values()) / 1e6, 1),
        "import_seconds": {
            module: _median_seconds(_import_code(module), runs)
            for module in ("numpy", "statsforecast", "statsforecast.models")
        },
        "first_call_extra_seconds": {
            name: _median_seconds(_jit_code(name), runs) for name in FORECAST_MODELS
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.anomalies_library", description=__doc__
    )
    parser.add_argument("--tenants", type=int, default=8)
    parser.add_argument("--months", type=int, default=4, help="per tenant; the first is history")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per month")
    parser.add_argument("--models", default=",".join(FORECAST_MODELS), help="all forecast")
    parser.add_argument("--detect-models", default=",".join(DETECT_MODELS), help="these detect")
    parser.add_argument(
        "--band-sigma",
        type=float,
        default=SETTINGS.sensitivity,
        help="the library's detection band in standard deviations (ours stays at the default)",
    )
    parser.add_argument(
        "--weight", action="store_true", help="measure install weight, import and JIT time only"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.weight:
        figures: dict = weight()
        print(json.dumps(figures, indent=2))
    else:
        reports, failed = compare(
            args.tenants,
            args.months,
            args.rows,
            [n for n in args.models.split(",") if n],
            [n for n in args.detect_models.split(",") if n],
            args.band_sigma,
        )
        figures = {"reports": reports, "failed_fits": failed, "band_sigma": args.band_sigma}
        print(tables(reports, failed, args.band_sigma))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
