"""A snapshot of the code location's graph (assets, partitions, checks, deps, jobs, sensors,
schedules), so any change to the graph is a visible diff in review.

After an intended change, rewrite the snapshot and commit it with the change:
`FINOPS_UPDATE_SNAPSHOTS=1 .venv/bin/pytest finops_platform_tests/test_asset_graph_snapshot.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import TENANT_MONTH_CHECKS
from finops_platform.settings import load_settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> object:
    """A partitions definition by its shape, not by today's keys (the last month moves)."""
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return {
            dimension.name: _partitions(dimension.partitions_def)
            for dimension in partitions_def.partitions_defs
        }
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return {"static": partitions_def.get_partition_keys()}
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return {
            "cron": partitions_def.cron_schedule,
            "start": partitions_def.start.date().isoformat(),
            "end_offset": partitions_def.end_offset,
        }
    return type(partitions_def).__name__


def graph_snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "owners": list(node.owners),
            "automation": node.automation_condition.get_label()
            if node.automation_condition
            else None,
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        check = graph.get_check_spec(check_key)
        checks[check_key.to_user_string()] = {
            "blocking": check.blocking,
            "partitioned": check.partitions_def is not None,
        }
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(job.name for job in repository.get_all_jobs()),
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
        "schedules": {
            schedule.name: schedule.cron_schedule for schedule in repository.schedule_defs
        },
    }


def test_the_asset_graph_matches_its_snapshot(finops_home) -> None:
    snapshot = graph_snapshot(build_definitions(load_settings()))
    text = json.dumps(snapshot, indent=2, sort_keys=True) + "\n"
    if os.environ.get("FINOPS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert json.loads(text) == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_the_registry_names_every_partitioned_check(finops_home) -> None:
    """keys.TENANT_MONTH_CHECKS (read by the dashboard) is the graph's tenant x month checks."""
    graph = build_definitions(load_settings()).resolve_asset_graph()
    partitioned = {
        key
        for key in graph.asset_check_keys
        if graph.get_check_spec(key).partitions_def is not None
        and key.asset_key != dg.AssetKey("cost_cross_org_monthly")
    }
    assert set(TENANT_MONTH_CHECKS) == partitioned
