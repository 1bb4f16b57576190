"""Configuration: the original tenants_config.json format, defaults, and every bad case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finops_platform.core import ConfigError
from finops_platform.resources import build_resources
from finops_platform.settings import load_settings, load_tenants, parse_tenants

ALPHA = {
    "org_id": "tenant_alpha",
    "active": True,
    "source_path": "s3://datalake-raw/tenant-alpha/",
    "glue_db": "custos_tenant_alpha_db",
    "athena_workgroup": "wg_custos_tenant_alpha",
    "sla_hours": 24,
    "partitioning": {"year": True, "month": True, "org": True},
}
BETA = {
    "org_id": "tenant_beta",
    "active": True,
    "source_path": "s3://datalake-raw/tenant-beta/",
    "sla_hours": 12,
    "partitioning": {"year": True, "month": True, "org": True},
}


def parse(tenants: list[dict]) -> object:
    return parse_tenants(json.dumps(tenants), "test.json")


def test_original_format_and_naming_defaults() -> None:
    config = parse([ALPHA, BETA])
    alpha, beta = config.tenants
    assert (alpha.database, alpha.workgroup) == ("custos_tenant_alpha_db", "wg_custos_tenant_alpha")
    assert (beta.database, beta.workgroup) == ("custos_tenant_beta_db", "wg_custos_tenant_beta")
    assert beta.sla_hours == 12 and beta.cur_format == "auto"


def test_shipped_config_has_two_legacy_tenants_and_one_cur2() -> None:
    config = load_tenants(Path(__file__).parents[1] / "config" / "tenants_config.json")
    formats = {t.org_id: (t.cur_format, t.sla_hours) for t in config.tenants}
    assert formats["tenant_alpha"] == ("legacy", 24)
    assert formats["tenant_beta"] == ("legacy", 12)
    assert sorted(f for f, _ in formats.values()) == ["cur2", "legacy", "legacy"]


@pytest.mark.parametrize(
    ("tenants", "expected"),
    [
        ([ALPHA, {**BETA, "org_id": "tenant_alpha"}], "org_id 'tenant_alpha' is already used"),
        ([ALPHA, {**BETA, "glue_db": "custos_tenant_alpha_db"}], "database (glue_db)"),
        (
            [ALPHA, {**BETA, "athena_workgroup": "wg_custos_tenant_alpha"}],
            "workgroup (athena_workgroup) 'wg_custos_tenant_alpha' is already used",
        ),
        ([ALPHA, {**BETA, "source_path": ALPHA["source_path"]}], "tenants may not share a prefix"),
        (
            [ALPHA, {**BETA, "source_path": "s3://datalake-raw/tenant-alpha/sub/"}],
            "overlaps the source_path",
        ),
        (
            [ALPHA, {**BETA, "source_path": "s3://datalake-raw/tenant-beta/../tenant-alpha/"}],
            "tenant 'tenant_beta' (entry 2), field source_path: "
            "'s3://datalake-raw/tenant-beta/../tenant-alpha/' has an empty, '.' or '..' segment",
        ),
        ([ALPHA, {**BETA, "source_path": "s3://datalake-raw//tenant-alpha/"}], "empty, '.'"),
        ([ALPHA, {**BETA, "source_path": "s3:///datalake-raw/tenant-alpha/"}], "empty, '.'"),
        ([{**ALPHA, "source_path": "/data/./alpha"}], "field source_path"),
        ([{**ALPHA, "org_id": "Tenant"}], "field org_id: 'Tenant' does not match"),
        ([{**ALPHA, "org_id": "../x"}], "does not match ^[a-z][a-z0-9_]{1,48}$"),
        ([{**ALPHA, "org_id": "a" * 50}], "field org_id"),  # custos_<org>_crawler > 64
        ([{**ALPHA, "org_id": "a;drop"}], "field org_id"),
        ([{**ALPHA, "org_id": ""}], "field org_id"),
        ([{**ALPHA, "color": "blue"}], "tenant 'tenant_alpha' (entry 1), field color: unknown key"),
        ([{**ALPHA, "sla_hours": 0}], "field sla_hours: Input should be greater than 0"),
        ([{**ALPHA, "sla_hours": -5}], "field sla_hours"),
        ([{**ALPHA, "sla_hours": "soon"}], "field sla_hours"),
        ([ALPHA, {**BETA, "sla_hours": 0}], "tenant 'tenant_beta' (entry 2), field sla_hours"),
        (
            [{**ALPHA, "partitioning": {"year": True, "month": False, "org": True}}],
            "cannot be turned off",
        ),
        ([{**ALPHA, "first_billing_month": "2026-13-01"}], "expected a month as YYYY-MM"),
        (
            [{**ALPHA, "run_resources": {"cpu": 3000, "memory": 4096}}],
            "tenant 'tenant_alpha' (entry 1), field run_resources: cpu 3000 is not a Fargate size",
        ),
        (
            [{**ALPHA, "run_resources": {"cpu": 1024, "memory": 16384}}],
            "memory 16384 MiB does not fit cpu 1024: "
            "Fargate takes 2048 to 8192 MiB in steps of 1024",
        ),
        ([{**ALPHA, "run_resources": {"cpu": 1024}}], "field run_resources.memory: Field required"),
        (
            [{k: v for k, v in ALPHA.items() if k != "source_path"}],
            "field source_path: Field required",
        ),
    ],
)
def test_bad_tenants_are_named_with_their_field(tenants: list[dict], expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(tenants)
    assert "test.json" in str(error.value)
    assert expected in str(error.value)


def test_invalid_json_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bad\.json: not valid JSON"):
        parse_tenants("[{", "bad.json")
    with pytest.raises(ConfigError, match="expected a JSON list of tenants"):
        parse_tenants("{}", "bad.json")
    with pytest.raises(ConfigError, match="cannot read the tenants config"):
        load_tenants(tmp_path / "missing.json")


def test_environment_selection_and_aws_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tenants.json"
    config.write_text(json.dumps([ALPHA]))
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    settings = load_settings(config, "staging", tmp_path / "home")
    assert settings.environment.name == "staging"
    assert settings.environment.region == "eu-west-1"
    with pytest.raises(ConfigError, match="unknown environment 'qa'"):
        load_settings(config, "qa", tmp_path / "home")


def test_config_path_and_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "tenants.json"
    config.write_text(json.dumps([BETA]))
    monkeypatch.setenv("CONFIG_PATH", str(config))
    monkeypatch.setenv("ENVIRONMENT", "prod")
    settings = load_settings(finops_home=tmp_path)
    assert [t.org_id for t in settings.tenants.tenants] == ["tenant_beta"]
    assert settings.environment.name == "prod"


AWS_ENVIRONMENT = {
    "engine": "athena",
    "object_store": "s3",
    "catalog": "glue",
    "lake_root": "s3://lake/platform/",
    "athena_results_root": "s3://results/athena/",
}


@pytest.mark.parametrize(
    ("source_path", "expected"),
    [
        ("s3://lake/platform/custos/cur/org=tenant_alpha/", "overlaps the lake_root"),
        ("s3://lake/platform/custos/curated/cost_daily/", "overlaps the lake_root"),
        ("s3://lake/", "overlaps the lake_root 's3://lake/platform/'"),
        ("s3://results/athena/wg_custos_tenant_beta/", "overlaps the athena_results_root"),
        ("s3://results", "overlaps the athena_results_root 's3://results/athena/'"),
    ],
)
def test_a_source_path_may_not_overlap_the_lake_or_the_athena_results(
    tmp_path: Path, source_path: str, expected: str
) -> None:
    config = tmp_path / "tenants.json"
    config.write_text(json.dumps([ALPHA, {**BETA, "source_path": source_path}]))
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "aws.json").write_text(json.dumps(AWS_ENVIRONMENT))
    with pytest.raises(ConfigError) as error:
        load_settings(config, "aws", tmp_path / "home")
    assert str(config) in str(error.value)
    folder = source_path.rstrip("/") + "/"  # an S3 prefix is a folder (issue 16)
    assert f"tenant 'tenant_beta': source_path {folder!r} {expected}" in str(error.value)


@pytest.mark.parametrize(
    "local_source",
    [
        "home/buckets/finops-lake/custos/cur/org=tenant_alpha",  # the lake's folder, by its path
        "home/buckets",  # a folder holding the lake
        "home",
    ],
)
def test_a_local_source_path_may_not_overlap_the_local_lake_folder(
    tmp_path: Path, local_source: str
) -> None:
    config = tmp_path / "tenants.json"
    source = tmp_path / local_source
    config.write_text(json.dumps([ALPHA, {**BETA, "source_path": str(source)}]))
    settings = load_settings(config, "dev", tmp_path / "home")
    # The embedded resources check folders: a URI check cannot see a local path's folder.
    with pytest.raises(ConfigError) as error:
        build_resources(settings)
    assert f"tenant 'tenant_beta': source_path {str(source)!r}" in str(error.value)
    assert f"overlaps the local lake folder {tmp_path / 'home/buckets/finops-lake'}" in str(
        error.value
    )


def test_sources_beside_the_lake_are_accepted(tmp_path: Path) -> None:
    config = tmp_path / "tenants.json"
    local = {**BETA, "source_path": str(tmp_path / "home" / "exports" / "beta")}
    config.write_text(json.dumps([ALPHA, local]))
    settings = load_settings(config, "dev", tmp_path / "home")
    assert len(build_resources(settings)["finops"].settings.tenants.tenants) == 2
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "aws.json").write_text(json.dumps(AWS_ENVIRONMENT))
    config.write_text(json.dumps([ALPHA, {**BETA, "source_path": "s3://lake/platform-exports/"}]))
    assert len(load_settings(config, "aws", tmp_path / "home").tenants.tenants) == 2


def test_anomaly_defaults_and_budgets_of_the_shipped_config() -> None:
    config = load_tenants(Path(__file__).parents[1] / "config" / "tenants_config.json")
    alpha, beta, _ = config.tenants
    assert beta.anomaly.min_impact > 0 and beta.anomaly.sensitivity > 0 and beta.budgets == []
    scopes = {b.name: (b.scope, b.key, b.forecast_thresholds) for b in alpha.budgets}
    assert scopes["alpha-rds"] == ("service", "AmazonRDS", [80.0, 100.0])
    assert scopes["alpha-production"][:2] == ("tag", "environment=production")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"anomaly": {"sensitivity": 0}}, "field anomaly.sensitivity: Input should be greater"),
        ({"anomaly": {"min_impact_pct": -5}}, "field anomaly.min_impact_pct"),
        ({"anomaly": {"minimum": 5}}, "field anomaly.minimum: unknown key"),
        ({"budgets": [{"name": "b", "scope": "service", "amount": 5}]}, "scope 'service' needs"),
        ({"budgets": [{"name": "b", "key": "x", "amount": 5}]}, "tenant-wide budget takes no key"),
        ({"budgets": [{"name": "b", "amount": 0}]}, "field budgets.0.amount"),
        ({"budgets": [{"name": "b", "amount": 5, "currency": "usd"}]}, "budgets.0.currency"),
        (
            {"budgets": [{"name": "b", "amount": 5, "actual_thresholds": [100, 80]}]},
            "actual_thresholds must be increasing",
        ),
        (
            {"budgets": [{"name": "b", "amount": 5}, {"name": "b", "amount": 6}]},
            "budget names must be unique, repeated: b",
        ),
        (
            {"budgets": [{"name": "b", "scope": "tag", "key": "team", "amount": 5}]},
            "'<tag key>=<tag value>'",
        ),
        (
            {"budgets": [{"name": "b", "scope": "tag", "key": "team=x", "amount": 5}]},
            "tag key 'team' is not one of cost_allocation_tags",
        ),
    ],
)
def test_bad_anomaly_settings_and_budgets_name_tenant_and_field(
    change: dict, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse([ALPHA, {**BETA, **change}])
    assert "tenant 'tenant_beta' (entry 2)" in str(caught.value)
    assert expected in str(caught.value)
