"""The code location loads from the shipped config, with the asset graph docs/ARCHITECTURE.md
describes."""

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.settings import load_settings


def test_definitions_load_from_the_shipped_config(finops_home) -> None:
    defs = build_definitions(load_settings())
    repository = defs.get_repository_def()
    raw = defs.resolve_assets_def("raw_cur")
    catalog = defs.resolve_assets_def("tb_cur_raw")

    assert raw.group_names_by_key[dg.AssetKey("raw_cur")] == "raw"
    assert catalog.group_names_by_key[dg.AssetKey("tb_cur_raw")] == "catalog"
    assert dg.AssetKey("raw_cur") in catalog.asset_deps[dg.AssetKey("tb_cur_raw")]
    assert {spec.name for spec in raw.check_specs} == {
        "raw_schema",
        "raw_partition_validity",
        "raw_row_count",
        "raw_unique_line_items",
        "raw_finite_costs",
    }
    assert [s.blocking for s in raw.check_specs if s.name == "raw_schema"] == [True]
    assert {"duckdb", "parquet"} <= raw.specs_by_key[dg.AssetKey("raw_cur")].kinds

    partitions = raw.partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    tenants = partitions.get_partitions_def_for_dimension("tenant").get_partition_keys()
    assert tenants == ["tenant_alpha", "tenant_beta", "tenant_gamma"]
    keys = partitions.get_partition_keys()
    assert "2026-01-01|tenant_alpha" in keys
    assert set(repository.get_top_level_resources()) == {
        "finops",
        "store",
        "catalog",
        "engine",
        "cur_ingest",
        "clock",
        "alerts",
    }
    assert {s.name for s in repository.sensor_defs} >= {
        "cur_arrivals_tenant_alpha",
        "slack_alerts_on_success",
        "slack_alerts_on_failure",
        "slack_alert_retry",
    }
    assert {s.name for s in repository.schedule_defs} == {
        "daily_tenant_refresh",
        "daily_cross_org_refresh",
        "freshness_sla_every_5_minutes",
    }
