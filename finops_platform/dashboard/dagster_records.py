"""What the Dagster instance recorded per tenant x month: last run, raw load, check verdicts.

Read-only: the instance at DAGSTER_HOME holds the runs of `finops run`, of the UI and of the
sensors; an instance that does not exist yet simply has no records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from finops_platform.defs.common.keys import RAW_CUR, TENANT_MONTH_CHECKS
from finops_platform.defs.common.partitions import PARTITION_TAG


@dataclass(frozen=True)
class CheckVerdict:
    asset: str
    name: str
    passed: bool | None  # None: planned in a run but never evaluated
    severity: str
    description: str

    @property
    def label(self) -> str:
        return f"{self.asset}.{self.name}"


@dataclass
class PartitionRecords:
    run_status: str | None = None
    run_id: str | None = None
    loaded_at: dt.datetime | None = None
    load_metadata: dict[str, object] = field(default_factory=dict)
    checks: list[CheckVerdict] = field(default_factory=list)


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None, microsecond=0)


def _verdict(key: dg.AssetCheckKey, record: object) -> CheckVerdict:
    asset = key.asset_key.to_user_string()
    event = getattr(record, "event", None)
    evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
    if record.status == AssetCheckExecutionRecordStatus.PLANNED or evaluation is None:
        return CheckVerdict(asset, key.name, None, "", "planned, not evaluated")
    return CheckVerdict(
        asset,
        key.name,
        bool(evaluation.passed),
        evaluation.severity.value,
        evaluation.description or "",
    )


def read_partition_records(
    dagster_home: Path, partition_keys: Iterable[str]
) -> dict[str, PartitionRecords]:
    """Records per partition key (`2026-11-01|tenant_alpha`); empty without an instance."""
    keys = list(partition_keys)
    records = {key: PartitionRecords() for key in keys}
    if not keys or not dagster_home.is_dir():
        return records
    check_keys = list(TENANT_MONTH_CHECKS)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for key, entry in records.items():
            _read_partition(instance, key, entry, check_keys)
    return records


def _read_partition(
    instance: dg.DagsterInstance,
    key: str,
    entry: PartitionRecords,
    check_keys: list[dg.AssetCheckKey],
) -> None:
    runs = list(instance.get_run_records(dg.RunsFilter(tags={PARTITION_TAG: key}), limit=1))
    loads = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_CUR, asset_partitions=[key]), limit=1
    ).records
    if loads:
        entry.loaded_at = _utc(loads[0].timestamp)
        metadata = loads[0].asset_materialization.metadata
        entry.load_metadata = {name: value.value for name, value in metadata.items()}
        # A run over a range of partitions (a single-run backfill) carries no partition tag:
        # it is found through the partition's latest load.
        loaded_by = instance.get_run_record_by_id(loads[0].run_id)
        if loaded_by is not None:
            runs.append(loaded_by)
    if runs:
        run = max(runs, key=lambda record: record.create_timestamp).dagster_run
        entry.run_id, entry.run_status = run.run_id, run.status.value
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        check_keys, partition_filter=PartitionKeyFilter(key=key)
    )
    entry.checks = [_verdict(check, latest[check]) for check in check_keys if check in latest]
