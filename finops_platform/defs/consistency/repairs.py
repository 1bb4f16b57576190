"""What the layer consistency sensor remembers between ticks, and the runs it requests.

An incident is a month found disagreeing, from the tick that first sees it until a tick sees it
agree again or its repair run ends with `layers_agree` passing. Each incident gets one repair
run, with a run key of its own (the time it was first seen): a repair that fails is not
requested again (on S3 every failed attempt leaves another raw version, so the disagreement's
text never repeats and would be requested forever), and the same disagreement found again
after a good repair is a new incident, not one Dagster drops as a run key it has seen. A failed
repair is announced by the run failure alert and logged once here; the month waits for a person
(`finops run` of the month) or its next delivery.

A repair rebuilds only what disagrees and what is built from it: a stale curated table or
central mirror does not re-ingest the raw month.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
from pydantic import BaseModel, ValidationError

from finops_platform.defs.common.keys import LAYERS_AGREE, RAW_CUR, TB_CUR_RAW
from finops_platform.defs.consistency.layers import Lineage, MonthLayers

SENSOR_NAME = "layer_consistency"
REPAIR_TAG = "finops/repair"
# The tag Dagster gives a run requested with a run key.
RUN_KEY_TAG = "dagster/run_key"
LAYERS_CHECK = dg.AssetCheckKey(TB_CUR_RAW, LAYERS_AGREE)
_FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


class Incident(BaseModel):
    """A month found disagreeing; `since` (when first seen) makes its run key its own."""

    since: str
    run_key: str | None = None  # its one repair, once requested
    failure_logged: bool = False


class SensorCursor(BaseModel):
    incidents: dict[str, Incident] = {}
    rotation: int = 0  # which slice of older months the next tick compares


def read_cursor(text: str | None) -> SensorCursor:
    """The cursor; an empty one if absent or of an older format (its months are found again)."""
    try:
        return SensorCursor.model_validate_json(text) if text else SensorCursor()
    except ValidationError:
        return SensorCursor()


def new_incident() -> Incident:
    return Incident(since=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"))


def repair_outcome(instance: dg.DagsterInstance, run_key: str, key: str) -> bool | None:
    """Whether the requested repair ended with the month's `layers_agree` passing; None while
    it has not finished (or not been launched yet)."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1)
    if not runs or runs[0].status not in _FINISHED:
        return None
    if runs[0].status != dg.DagsterRunStatus.SUCCESS:
        return False  # layers_agree does not block: a successful run may still have failed it
    records = instance.get_records_for_run(
        runs[0].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    for record in records:
        evaluation = record.event_log_entry.dagster_event.asset_check_evaluation_data
        if evaluation.asset_check_key == LAYERS_CHECK and evaluation.partition in (None, key):
            return evaluation.passed
    return False


def repair_assets(verdict: MonthLayers, lineage: Lineage) -> set[dg.AssetKey] | None:
    """The assets a repair of `verdict` materializes: what disagrees and every curated table
    built from it; None (the whole tenant x month job) when the raw month disagrees."""
    if RAW_CUR in verdict.rebuild:
        return None
    selected = set(verdict.rebuild)
    grown = True
    while grown:
        downstream = {asset for asset, deps in lineage.items() if selected.intersection(deps)}
        grown = not downstream <= selected
        selected |= downstream
    return selected


def repair_request(
    verdict: MonthLayers,
    key: str,
    incident: Incident,
    lineage: Lineage,
    repository: dg.RepositoryDefinition | None,
) -> dg.RunRequest:
    """The repair run of an incident: its assets, their checks and `layers_agree`, which ends
    the run by proving the month whole (the whole job when the checks cannot be listed)."""
    assets = repair_assets(verdict, lineage) if repository is not None else None
    checks = None
    if assets is not None and repository is not None:
        checks = [*repository.asset_graph.get_check_keys_for_assets(assets), LAYERS_CHECK]
    return dg.RunRequest(
        partition_key=key,
        run_key=f"{SENSOR_NAME}:{key}:{incident.since}",
        asset_selection=sorted(assets, key=str) if assets is not None else None,
        asset_check_keys=checks,
        tags={REPAIR_TAG: verdict.describe()[:4000]},
    )
