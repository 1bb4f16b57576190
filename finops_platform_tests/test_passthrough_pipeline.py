"""The same CUR 2.0 month loaded by the whole pipeline twice, once passed through and once
normalized (two tenants with identical deliveries): raw_cur and the catalog record which way
it came in, and tb_cur_raw and every curated table hold the same rows either way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import RAW_CUR, TENANT_MONTH_GROUPS
from finops_platform.defs.common.partitions import partition_key
from finops_platform.lake import RAW_TABLE
from finops_platform.lib.catalog.base import INGEST_MODE, SUPPLIED_COLUMNS
from finops_platform.lib.cur.ingest import WorkerIngest
from finops_platform.resources import build_resources
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import home_instance

MONTH = dt.date(2026, 9, 1)
# Per run and per tenant: left out of the comparison (the rest of the lineage is compared).
PER_LOAD = {"org", "x_ingestion_time", "x_source_file", "forecast_at", "detected_at"}


def materialize(org: str, pass_through: bool) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    resources = dict(defs.resources)
    ingest = resources["cur_ingest"]
    assert isinstance(ingest, WorkerIngest)
    resources["cur_ingest"] = WorkerIngest(
        store=ingest.store,
        memory_limit=ingest.memory_limit,
        threads=ingest.threads,
        pass_through=pass_through,
    )
    with home_instance() as instance:
        return dg.materialize(
            assets=list(defs.assets or []),
            resources=resources,
            instance=instance,
            partition_key=partition_key(org, MONTH),
            selection=dg.AssetSelection.groups(*TENANT_MONTH_GROUPS),
            raise_on_error=False,
        )


def tables_of(org: str) -> dict[str, list[dict]]:
    """Every table of the tenant's database, its rows sorted, without per-load columns."""
    settings = load_settings()
    resources = build_resources(settings)
    database = settings.tenants.get(org).database
    found = {}
    with resources["engine"].session(database) as session:
        for table in resources["catalog"].list_tables(database):
            columns = [c for c in [*table.columns, *table.partition_keys] if c not in PER_LOAD]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = session.query_native(f'SELECT {listed} FROM "{table.name}"').to_pylist()
            found[table.name] = sorted((rounded(row) for row in rows), key=repr)
    return found


def rounded(value: object) -> object:
    """Floats to 9 decimals: a sum's last bits follow the order its rows were read in, and the
    two months' files split the rows differently."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def test_a_passed_through_month_gives_the_tables_a_normalized_one_gives(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    orgs = {"passed": True, "normalized": False}
    for org in orgs:
        generate_month(tmp_path / org, month=MONTH, rows=5000, fmt="cur2", seed=3)
    write_config([tenant_entry(org, tmp_path / org, first_billing_month="2026-01") for org in orgs])
    for org, pass_through in orgs.items():
        result = materialize(org, pass_through)
        assert result.success, result.get_step_failure_events()
        (raw,) = [
            e.step_materialization_data.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.asset_key == RAW_CUR
        ]
        mode = "pass-through" if pass_through else "normalized"
        assert raw[INGEST_MODE].value == mode
        assert (SUPPLIED_COLUMNS in raw) == pass_through
        resources = build_resources(load_settings())
        database = load_settings().tenants.get(org).database
        (partition,) = resources["catalog"].list_partitions(database, RAW_TABLE)
        assert partition.parameters[INGEST_MODE] == mode
        assert (partition.supplied_columns() is not None) == pass_through

    passed, normalized = tables_of("passed"), tables_of("normalized")
    assert len(passed) >= 6 and set(passed) == set(normalized)
    sizes = {name: len(rows) for name, rows in passed.items()}
    assert all(sizes[name] for name in (RAW_TABLE, "cost_daily", "focus_cost")), sizes
    for name in passed:  # cost_anomalies may be empty, but alike
        assert passed[name] == normalized[name], name
    # The lineage left out above: each row names its own tenant's delivery file.
    settings = load_settings()
    with build_resources(settings)["engine"].session("custos_passed_db") as session:
        sources = session.query_native(f"SELECT DISTINCT x_source_file FROM {RAW_TABLE}")
    assert all(str(tmp_path / "passed") in s for s in sources["x_source_file"].to_pylist())
