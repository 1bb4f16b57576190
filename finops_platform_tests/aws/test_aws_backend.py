"""The AWS backend against moto server over real HTTP: onboarding, a full materialization of one
tenant x month (S3 lake, Glue partitions, Athena in the tenant's workgroup), failed and stuck
Athena queries, and config and secrets from SSM.

moto does not run SQL: its Athena answers with canned results queued per query, so these tests
prove the control flow, while the SQL itself is proven on DuckDB by the other tests.
"""

import base64
import datetime as dt
import json
import shutil
from pathlib import Path
from urllib.parse import unquote

import boto3
import dagster as dg
import pyarrow as pa
import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from finops_platform.cli import main
from finops_platform.core import ConfigError
from finops_platform.definitions import build_definitions
from finops_platform.defs.anomalies.tables import ANOMALY_SCHEMA, FORECAST_SCHEMA
from finops_platform.defs.common.partitions import partition_key
from finops_platform.defs.common.sql_checks import partition_params
from finops_platform.lib.catalog.supplied_view import supplied_view_sql
from finops_platform.lib.engine.athena import AthenaQueryError
from finops_platform.lib.secrets import resolve_secret
from finops_platform.lib.sql import Identifier, load_sql, render
from finops_platform.months import last_day, shift_month
from finops_platform.resources import build_resources, settings_from
from finops_platform.sample import generate_month
from finops_platform.settings import REPO_ROOT, load_settings
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.fault_proxy import Request, fault_proxy
from finops_platform_tests.support.moto import (
    canned,
    column,
    queue_athena_results,
    raw_ingest_results,
)

MONTH = dt.date(2026, 9, 1)
LAKE = "finops-lake-prod"
ROLE = "arn:aws:iam::123456789012:role/finops-glue-crawler"


def finops(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def prod(aws: str, tmp_path: Path, finops_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The prod environment (Athena, S3, Glue) with two tenants delivering CUR to S3."""
    s3 = boto3.client("s3")
    for bucket in (LAKE, "datalake-raw"):
        s3.create_bucket(Bucket=bucket)
    config_dir = tmp_path / "config"
    (config_dir / "environments").mkdir(parents=True)
    environment = json.loads((REPO_ROOT / "config/environments/prod.json").read_text())
    environment["glue_crawler_role_arn"] = ROLE
    (config_dir / "environments" / "prod.json").write_text(json.dumps(environment))
    tenants = [
        tenant_entry("alpha", "s3://datalake-raw/tenant-alpha/", glue_crawler=True),
        tenant_entry("beta", "s3://datalake-raw/tenant-beta/", cur_format="cur2"),
    ]
    (config_dir / "tenants.json").write_text(json.dumps(tenants))
    monkeypatch.setenv("CONFIG_PATH", str(config_dir / "tenants.json"))
    monkeypatch.setenv("ENVIRONMENT", "prod")
    return config_dir


def upload_delivery(tmp_path: Path, org: str, fmt: str) -> None:
    """A generated CUR delivery copied into the tenant's S3 source path, manifest last."""
    local = tmp_path / f"delivery-{org}"
    delivery = generate_month(local, month=MONTH, rows=2000, fmt=fmt, seed=2)
    s3 = boto3.client("s3")
    for path in [*delivery.data_files, delivery.manifest_path]:
        s3.upload_file(str(path), "datalake-raw", f"tenant-{org}/{path.relative_to(local)}")
    shutil.rmtree(local)


def read_back(max_usage_start: str, unblended_cost: str) -> dict:
    """Athena's answer when tb_cur_raw reads a 2,000-row partition back."""
    return canned(
        [
            column("row_count", "bigint"),
            column("max_usage_start", "timestamp"),
            column("unblended_cost", "decimal", 38, 10),
            column("assembly_id", "varchar"),
        ],
        ["2000", max_usage_start, unblended_cost, "abc"],
    )


def test_tenant_init_provisions_once_with_the_naming_convention(prod: Path) -> None:
    for org in ("alpha", "beta"):
        plan = finops("tenant", "init", org, "--dry-run")
        assert "would create" in plan
    assert boto3.client("glue").get_databases()["DatabaseList"] == []  # a dry run changes nothing

    first = {org: finops("tenant", "init", org) for org in ("alpha", "beta")}
    assert "created" in first["alpha"] and "Glue crawler" in first["alpha"]
    second = {org: finops("tenant", "init", org) for org in ("alpha", "beta")}
    for output in second.values():
        assert "created" not in output and "updated" not in output

    glue, athena = boto3.client("glue"), boto3.client("athena")
    databases = sorted(d["Name"] for d in glue.get_databases()["DatabaseList"])
    assert databases == ["custos_alpha_db", "custos_beta_db", "custos_central_db"]
    workgroups = sorted(w["Name"] for w in athena.list_work_groups()["WorkGroups"])
    assert workgroups == ["primary", "wg_custos_alpha", "wg_custos_beta", "wg_custos_central"]
    configuration = athena.get_work_group(WorkGroup="wg_custos_alpha")["WorkGroup"]["Configuration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == 1099511627776
    assert configuration["ResultConfiguration"]["OutputLocation"].endswith(
        "athena-results/wg_custos_alpha/"
    )
    crawler = glue.get_crawler(Name="custos_alpha_crawler")["Crawler"]
    assert crawler["DatabaseName"] == "custos_alpha_db" and crawler["Role"] == ROLE
    assert [c["Name"] for c in glue.get_crawlers()["Crawlers"]] == ["custos_alpha_crawler"]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=LAKE)["Contents"]]
    assert sorted(keys) == ["custos/cur/org=alpha/", "custos/cur/org=beta/"]


def materialize(assets: list[str], org: str = "alpha") -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    return dg.materialize(
        assets=list(defs.assets or []),
        resources=defs.resources,
        partition_key=partition_key(org, MONTH),
        selection=dg.AssetSelection.assets(*assets),
        raise_on_error=False,
    )


def test_one_tenant_month_through_s3_glue_and_athena(prod: Path, aws: str, tmp_path: Path) -> None:
    finops("tenant", "init", "alpha")
    upload_delivery(tmp_path, "alpha", "legacy")
    queue_athena_results(
        aws,
        [
            *raw_ingest_results(MONTH, 2000),  # raw_cur: the UNLOAD, then its validation
            read_back("2026-09-30 23:00:00.000", "1234.5000000000"),
            canned([column("passed", "boolean")], ["true"]),  # month_complete
            canned(  # cost_daily's columns (SELECT ... LIMIT 0)
                [
                    column("billing_period", "date"),
                    column("usage_date", "date"),
                    column("unblended_cost", "decimal", 38, 10),
                    column("line_items", "bigint"),
                ]
            ),
            canned([column("rows", "bigint")], ["2000"]),  # the UNLOAD: one result per query
            canned(  # reconciles_with_raw
                [column("passed", "boolean"), column("line_item_types", "bigint")], ["true", "15"]
            ),
            canned(  # one_currency
                [
                    column("passed", "boolean"),
                    column("currencies", "bigint"),
                    column("currency_codes", "varchar"),
                ],
                ["true", "1", "USD"],
            ),
            canned(  # cost_daily's totals, as metadata
                [column("unblended_cost", "double"), column("line_items", "bigint")],
                ["1234.5", "2000"],
            ),
        ],
    )
    result = materialize(["raw_cur", "tb_cur_raw", "cost_daily"])
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]

    # The month is in the lake under a version prefix, and Glue points at that version.
    glue = boto3.client("glue")
    (raw_partition,) = glue.get_partitions(DatabaseName="custos_alpha_db", TableName="tb_cur_raw")[
        "Partitions"
    ]
    assert raw_partition["Values"] == ["alpha", "2026", "9"]
    location = raw_partition["StorageDescriptor"]["Location"]
    assert location.startswith(f"s3://{LAKE}/custos/cur/org=alpha/year=2026/month=9/v=")
    assert raw_partition["Parameters"]["row_count"] == "2000"
    prefix = location.removeprefix(f"s3://{LAKE}/")
    keys = [
        o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=LAKE, Prefix=prefix)["Contents"]
    ]
    assert prefix + "_SUCCESS" in keys  # complete (moto's UNLOAD writes no file into it)
    table = glue.get_table(DatabaseName="custos_alpha_db", Name="tb_cur_raw")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["org", "year", "month"]

    (curated,) = glue.get_partitions(DatabaseName="custos_alpha_db", TableName="cost_daily")[
        "Partitions"
    ]
    assert curated["StorageDescriptor"]["Location"].startswith(
        f"s3://{LAKE}/custos/curated/cost_daily/org=alpha/year=2026/month=9/v="
    )

    # Athena ran in the tenant's workgroup, and what it ran is the SQL file DuckDB proves.
    athena = boto3.client("athena")
    ids = athena.list_query_executions(WorkGroup="wg_custos_alpha")["QueryExecutionIds"]
    queries = [
        athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids
    ]
    tenant = load_settings().tenants.get("alpha")
    cost_daily_sql = render(load_sql("curated/cost_daily.sql"), partition_params(tenant, MONTH))
    raw_unload, curated_unload = [q for q in queries if q.startswith("UNLOAD")]
    assert f") TO '{location}' WITH (format = 'PARQUET', compression = 'ZSTD')" in raw_unload
    assert cost_daily_sql in curated_unload
    assert "WITH (format = 'PARQUET'" in curated_unload

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["reconciles_with_raw"] and checks["raw_unique_line_items"]
    assert checks["one_currency"]
    metadata = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("cost_daily")
    )
    assert {"query_count", "query_scanned_bytes", "query_engine_ms", "query_cost_usd"} <= set(
        metadata
    )
    assert metadata["unblended_cost"].value == 1234.5


def test_a_cur2_month_is_copied_and_tb_cur_raw_supplies_its_lineage(
    prod: Path, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On AWS a compatible CUR 2.0 month enters the lake by CopyObject (no UNLOAD, no data byte
    through the worker), and tb_cur_raw becomes a view over tb_cur_raw_files that supplies the
    lineage the copies lack, with one branch for the month."""
    finops("tenant", "init", "beta")
    upload_delivery(tmp_path, "beta", "cur2")
    queue_athena_results(
        aws,
        [
            *raw_ingest_results(MONTH, 2000)[1:],  # raw_cur: the copy's checks, no UNLOAD
            read_back("2026-09-28 23:00:00.000", "4321.0000000000"),  # through the view
            canned([column("passed", "boolean")], ["true"]),  # month_complete
        ],
    )
    requests: list[Request] = []

    def record(request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        requests.append(request)
        return status, body

    with fault_proxy(aws, record) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        result = materialize(["raw_cur", "tb_cur_raw"], org="beta")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]

    # The delivery's data files were read by their footers only, and copied inside S3.
    s3 = boto3.client("s3")
    delivered = s3.list_objects_v2(Bucket="datalake-raw", Prefix="tenant-beta/")["Contents"]
    (data_key,) = [o["Key"] for o in delivered if o["Key"].endswith(".parquet")]
    data_gets = [r for r in requests if r.method == "GET" and data_key in unquote(r.path)]
    assert data_gets and all(r.range for r in data_gets)
    assert [unquote(r.copy_source).lstrip("/") for r in requests if r.copy_source] == [
        f"datalake-raw/{data_key}"
    ]
    queries = [json.loads(r.body)["QueryString"] for r in requests if "StartQuery" in r.target]
    assert not [q for q in queries if "UNLOAD" in q]

    # Glue: the month on the files table, as raw_cur published it, and tb_cur_raw a view.
    glue = boto3.client("glue")
    (partition,) = glue.get_partitions(DatabaseName="custos_beta_db", TableName="tb_cur_raw_files")[
        "Partitions"
    ]
    assert partition["Parameters"]["ingest_mode"] == "pass-through"
    copy = partition["StorageDescriptor"]["Location"] + data_key.rsplit("/", 1)[1]
    bucket, key = copy.removeprefix("s3://").split("/", 1)
    original = s3.get_object(Bucket="datalake-raw", Key=data_key)["Body"].read()
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == original
    view = glue.get_table(DatabaseName="custos_beta_db", Name="tb_cur_raw")["Table"]
    assert view["TableType"] == "VIRTUAL_VIEW"
    catalog = build_resources(load_settings())["catalog"]
    (table,) = catalog.list_tables("custos_beta_db")
    assert table.name == "tb_cur_raw" and not table.is_view
    encoded = view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    sql = json.loads(base64.b64decode(encoded))["originalSql"]
    entries = catalog.list_partitions("custos_beta_db", "tb_cur_raw")
    assert sql == supplied_view_sql(table, "tb_cur_raw_files", entries)
    folder = f"s3://datalake-raw/{data_key.rsplit('/', 1)[0]}/"
    assert f"THEN concat('{folder}', element_at(split(\"$path\", '/'), -1))" in sql
    assert 'FROM "custos_beta_db".tb_cur_raw' in queries[-2]  # read back through the view


def failing_athena(request: Request, status: int, body: bytes) -> tuple[int, bytes]:
    """Athena answers every GetQueryExecution with FAILED and a syntax error."""
    if request.target.endswith("GetQueryExecution"):
        answer = json.loads(body)
        answer["QueryExecution"]["Status"] = {
            "State": "FAILED",
            "StateChangeReason": "SYNTAX_ERROR: line 3:5: Column 'nope' cannot be resolved",
        }
        return status, json.dumps(answer).encode()
    return status, body


def test_a_failed_athena_query_fails_the_run_with_athenas_reason(
    prod: Path, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finops("tenant", "init", "alpha")
    upload_delivery(tmp_path, "alpha", "legacy")
    with fault_proxy(aws, failing_athena) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        result = materialize(["raw_cur", "tb_cur_raw"])
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "raw_cur"  # its UNLOAD is the first query
    message = str(failure.step_failure_data.error)
    assert "FAILED: SYNTAX_ERROR: line 3:5: Column 'nope' cannot be resolved" in message
    assert "workgroup wg_custos_alpha" in message
    # Nothing is registered (not even the delivery's tables) and nothing of the version is left.
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    assert boto3.client("glue").get_tables(DatabaseName="custos_alpha_db")["TableList"] == []
    month = "custos/cur/org=alpha/year=2026/month=9/"
    assert boto3.client("s3").list_objects_v2(Bucket=LAKE, Prefix=month)["KeyCount"] == 0


def test_a_query_that_never_finishes_is_cancelled_after_the_timeout(
    prod: Path, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    finops("tenant", "init", "alpha")
    engine = build_definitions(load_settings()).resources["engine"]
    stuck = engine.model_copy(update={"timeout_seconds": 1.0})

    def running(request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        if request.target.endswith("GetQueryExecution"):
            answer = json.loads(body)
            answer["QueryExecution"]["Status"] = {"State": "RUNNING"}
            return status, json.dumps(answer).encode()
        return status, body

    with fault_proxy(aws, running) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        with (
            pytest.raises(AthenaQueryError, match=r"timed out after 1 s and was cancelled"),
            stuck.session("custos_alpha_db") as session,
        ):
            session.query("SELECT 1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    athena = boto3.client("athena")
    (execution_id,) = athena.list_query_executions(WorkGroup="wg_custos_alpha")["QueryExecutionIds"]
    state = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
    assert state["State"] == "CANCELLED"


def test_config_and_a_secret_come_from_ssm(
    aws: str, finops_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm = boto3.client("ssm")
    tenants = [tenant_entry("alpha", "s3://datalake-raw/tenant-alpha/")]
    ssm.put_parameter(Name="/finops/prod/tenants_config", Value=json.dumps(tenants), Type="String")
    webhook = "http://127.0.0.1:9/hooks/T000/B000/very-secret"
    ssm.put_parameter(Name="/finops/prod/slack_webhook", Value=webhook, Type="SecureString")

    settings = settings_from("ssm:/finops/prod/tenants_config", "dev")
    assert [t.org_id for t in settings.tenants.tenants] == ["alpha"]
    assert resolve_secret("ssm:/finops/prod/slack_webhook", "us-east-1") == webhook

    output = finops("--config", "ssm:/finops/prod/tenants_config", "config", "validate")
    assert "1 tenant(s) valid" in output and "very-secret" not in output

    with pytest.raises(
        ConfigError, match="SSM parameter '/finops/prod/nope': cannot read it"
    ) as error:
        settings_from("ssm:/finops/prod/nope", "dev")
    assert "very-secret" not in str(error.value)


def test_demo_data_lands_in_the_tenants_s3_source_path(prod: Path) -> None:
    finops("demo-data", "--tenant", "beta", "--months", "1", "--rows-per-month", "600")
    listed = boto3.client("s3").list_objects_v2(Bucket="datalake-raw", Prefix="tenant-beta/")
    keys = [o["Key"] for o in listed["Contents"]]
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert any(f"/data/BILLING_PERIOD={month}/" in k and k.endswith(".parquet") for k in keys)
    assert any(
        f"/metadata/BILLING_PERIOD={month}/" in k and k.endswith("-Manifest.json") for k in keys
    )


def athena_columns(schema: pa.Schema) -> list[dict]:
    """A canned Athena result's columns for an Arrow schema (the engine reads them back)."""
    kinds = {"string": "varchar", "double": "double", "int64": "bigint", "date32[day]": "date"}
    return [
        column(f.name, "timestamp" if pa.types.is_timestamp(f.type) else kinds[str(f.type)])
        for f in schema
    ]


def daily_series(spike_day: dt.date, spike: float) -> list[list[str]]:
    """sql/anomalies/daily_cost.sql's rows: EC2 in one account, 100 USD a weekday and 60 a
    weekend day from three months before MONTH to its end, `spike` more on `spike_day`."""
    rows = []
    day = shift_month(MONTH, -3)
    while day <= last_day(MONTH):
        cost = (100.0 if day.weekday() < 5 else 60.0) + (spike if day == spike_day else 0.0)
        usage = [day.isoformat(), "AmazonEC2", "111122223333", "BoxUsage:m5.large", "USD"]
        rows.append([*usage, "true", str(cost)])
        day += dt.timedelta(days=1)
    return rows


def test_anomalies_and_forecast_run_on_athena(prod: Path, aws: str) -> None:
    """cost_anomalies and cost_forecast on the AWS backend: their daily series come from Athena
    in the tenant's workgroup, their rows go to a fresh version by an UNLOAD (Trino SQL) and
    Glue registers it, and their checks judge what Athena answered: the spike, the budget."""
    config = prod / "tenants.json"
    tenants = json.loads(config.read_text())
    tenants[0]["budgets"] = [{"name": "alpha-monthly", "amount": 3200}]
    config.write_text(json.dumps(tenants))
    finops("tenant", "init", "alpha")
    spike_day = dt.date(2026, 9, 16)  # a Wednesday
    daily = canned(
        [
            column("usage_date", "date"),
            column("product_code", "varchar"),
            column("account_id", "varchar"),
            column("usage_type", "varchar"),
            column("currency", "varchar"),
            column("is_usage", "boolean"),
            column("cost", "double"),
        ],
        *daily_series(spike_day, 400.0),
    )
    no_tags = canned(
        [
            column("usage_date", "date"),
            column("tag_key", "varchar"),
            column("tag_value", "varchar"),
            column("product_code", "varchar"),
            column("account_id", "varchar"),
            column("cost", "double"),
        ]
    )
    unloaded = canned([column("rows", "bigint")], ["0"])
    for asset, schema in (("cost_anomalies", ANOMALY_SCHEMA), ("cost_forecast", FORECAST_SCHEMA)):
        queue_athena_results(aws, [daily, no_tags, canned(athena_columns(schema)), unloaded])
        result = materialize([asset])
        assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
        (partition,) = boto3.client("glue").get_partitions(
            DatabaseName="custos_alpha_db", TableName=asset
        )["Partitions"]
        assert partition["StorageDescriptor"]["Location"].startswith(
            f"s3://{LAKE}/custos/curated/{asset}/org=alpha/year=2026/month=9/v="
        )
        checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
        if asset == "cost_anomalies":
            found = checks["new_cost_anomalies"]
            assert not found.passed and found.severity == dg.AssetCheckSeverity.WARN
            assert "2026-09-16" in (found.description or "")
            assert found.metadata["new_anomalies"].value == 4  # total, service, account, usage
        else:
            # September: 22 weekdays x 100 + 8 weekend days x 60 + 400 = 3,080 of 3,200: 96 %.
            for name in ("budget_actual", "budget_forecast"):
                judged = checks[name]
                assert not judged.passed and judged.severity == dg.AssetCheckSeverity.WARN
                assert "alpha-monthly" in (judged.description or "")

    # What Athena ran, in the tenant's workgroup: the two daily series per asset, then the
    # judged rows as one UNLOAD of a VALUES query into the version Glue registers; each
    # statement reads as Trino whole, and back to the same tree.
    athena = boto3.client("athena")
    ids = athena.list_query_executions(WorkGroup="wg_custos_alpha")["QueryExecutionIds"]
    queries = [
        athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids
    ]
    unloads = [q for q in queries if q.startswith("UNLOAD")]
    assert len(unloads) == 2 and all("VALUES" in q for q in unloads)
    assert sum("cost_daily" in q and "is_usage" in q for q in queries) == 2
    for query in queries:
        statement = query.removeprefix("UNLOAD (").rsplit(") TO 's3://", 1)[0]
        tree = sqlglot.parse_one(statement, read="trino", error_level=ErrorLevel.RAISE)
        assert isinstance(tree, exp.Query) and not list(tree.find_all(exp.Command))
        assert sqlglot.parse_one(tree.sql("trino"), read="trino") == tree


def athena_queries() -> list[str]:
    """Every statement Athena ran in alpha's workgroup, oldest first."""
    athena = boto3.client("athena")
    ids = athena.list_query_executions(WorkGroup="wg_custos_alpha")["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


FOCUS_COLUMNS = canned([column("BilledCost", "decimal", 38, 10), column("year", "integer")])


def focus_totals(passed: bool) -> dict:
    return canned(
        [
            column("passed", "boolean"),
            column("billed_cost", "decimal", 38, 10),
            column("focus_rows", "bigint"),
        ],
        [str(passed).lower(), "1234.5000000000", "2002"],
    )


def test_focus_cost_is_an_athena_view_checked_for_the_month(prod: Path, aws: str) -> None:
    """On AWS the focus_cost view is Athena's own (`CREATE OR REPLACE VIEW`, which writes the
    Glue entry), defined from the same SQL file DuckDB runs, and a month's run checks that month
    through it: nothing is unloaded and nothing written to the lake."""
    finops("tenant", "init", "alpha")
    queue_athena_results(aws, [canned([]), FOCUS_COLUMNS, focus_totals(True)])
    result = materialize(["focus_cost"])
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]

    define, columns, check = athena_queries()
    view_sql = render(
        load_sql("curated/focus_cost.sql"), {"database": Identifier("custos_alpha_db")}
    )
    assert define == f'CREATE OR REPLACE VIEW "custos_alpha_db"."focus_cost" AS {view_sql}'
    assert columns == 'SELECT * FROM "custos_alpha_db"."focus_cost" LIMIT 0'
    assert "FROM \"custos_alpha_db\".focus_cost\n    WHERE org = 'alpha' AND year = 2026" in check
    tree = sqlglot.parse_one(define, read="trino", error_level=ErrorLevel.RAISE)
    assert isinstance(tree, exp.Create) and tree.kind == "VIEW"
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "focus_adds_up" and evaluation.passed
    assert evaluation.metadata["focus_rows"].value == 2002
    listed = boto3.client("s3").list_objects_v2(Bucket=LAKE, Prefix="custos/curated/focus_cost")
    assert listed["KeyCount"] == 0


def test_a_failed_focus_check_on_athena_puts_the_previous_view_back(prod: Path, aws: str) -> None:
    """The view Glue holds (as Athena stores one) is read back as a view, with its query; when
    the new definition fails its check, that query is defined again."""
    finops("tenant", "init", "alpha")
    before = 'SELECT 1 AS "BilledCost", 2026 AS "year"'
    presto = {
        "originalSql": before,
        "catalog": "awsdatacatalog",
        "schema": "custos_alpha_db",
        "columns": [{"name": "BilledCost", "type": "integer"}, {"name": "year", "type": "integer"}],
    }
    encoded = base64.b64encode(json.dumps(presto).encode()).decode()
    boto3.client("glue").create_table(
        DatabaseName="custos_alpha_db",
        TableInput={
            "Name": "focus_cost",
            "TableType": "VIRTUAL_VIEW",
            "Parameters": {"presto_view": "true", "comment": "Presto View"},
            "ViewOriginalText": f"/* Presto View: {encoded} */",
            "ViewExpandedText": "/* Presto View */",
            "StorageDescriptor": {
                "Columns": [{"Name": "billedcost", "Type": "int"}, {"Name": "year", "Type": "int"}]
            },
        },
    )
    catalog = build_resources(load_settings())["catalog"]
    (table,) = catalog.list_tables("custos_alpha_db")
    assert table.is_view and table.view_sql == before and table.location == ""
    assert catalog.list_partitions("custos_alpha_db", "focus_cost") == []

    queue_athena_results(
        aws, [canned([]), FOCUS_COLUMNS, focus_totals(False), canned([]), FOCUS_COLUMNS]
    )
    result = materialize(["focus_cost"])
    assert not result.success
    define, _, _, put_back, _ = athena_queries()
    assert define.startswith('CREATE OR REPLACE VIEW "custos_alpha_db"."focus_cost" AS -- ')
    assert "tb_cur_raw" in define and before not in define
    assert put_back == f'CREATE OR REPLACE VIEW "custos_alpha_db"."focus_cost" AS {before}'
