"""A private FINOPS_HOME for one benchmark sample: tenants config, settings, Dagster instance.

Each sample runs in a fresh folder, so a month is always a first load into an empty lake and
catalog, exactly as `finops run` would do it with that config.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.runner import ensure_dagster_home
from finops_platform.settings import Settings, load_settings

FIRST_BILLING_MONTH = "2024-01"
TAG_KEYS = ["cost_center", "environment", "team"]


@dataclass(frozen=True)
class BenchHome:
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance


def tenant_entry(org_id: str, source: Path) -> dict[str, object]:
    return {
        "org_id": org_id,
        "source_path": str(source),
        "sla_hours": 24,
        "partitioning": {"year": True, "month": True, "org": True},
        "cur_format": "legacy",
        "first_billing_month": FIRST_BILLING_MONTH,
        "cost_allocation_tags": TAG_KEYS,
    }


@contextmanager
def bench_home(root: Path, sources: dict[str, Path]) -> Iterator[BenchHome]:
    """Settings (the `dev` environment) for tenants `{org_id: source}`, with state under `root`."""
    config = root / "tenants_config.json"
    entries = [tenant_entry(org_id, source) for org_id, source in sources.items()]
    config.write_text(json.dumps(entries), encoding="utf-8")
    settings = load_settings(config, "dev", root)
    dagster_home = root / "dagster"
    ensure_dagster_home(dagster_home)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        yield BenchHome(settings, build_definitions(settings), instance)


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """How long each step of a run took by Dagster's own measure (its STEP_SUCCESS events)."""
    steps = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
        event = record.dagster_event
        steps[event.step_key] = event.event_specific_data.duration_ms / 1000
    return steps
