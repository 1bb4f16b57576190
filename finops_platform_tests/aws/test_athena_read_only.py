"""User queries on Athena (moto server over HTTP): only reading statements are sent, and only to
the workgroup of the database asked for. moto runs no SQL, so this proves the control flow."""

import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.settings import REPO_ROOT
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.moto import queue_athena_results

WORKGROUPS = ("primary", "wg_custos_alpha", "wg_custos_beta", "wg_custos_central")


@pytest.fixture
def prod(aws: str, tmp_path: Path, finops_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The prod environment with two tenants, provisioned."""
    boto3.client("s3").create_bucket(Bucket="finops-lake-prod")
    config = tmp_path / "config"
    (config / "environments").mkdir(parents=True)
    environment = json.loads((REPO_ROOT / "config/environments/prod.json").read_text())
    (config / "environments" / "prod.json").write_text(json.dumps(environment))
    tenants = [tenant_entry(org, f"s3://datalake-raw/tenant-{org}/") for org in ("alpha", "beta")]
    (config / "tenants.json").write_text(json.dumps(tenants))
    monkeypatch.setenv("CONFIG_PATH", str(config / "tenants.json"))
    monkeypatch.setenv("ENVIRONMENT", "prod")
    for org in ("alpha", "beta"):
        assert finops("tenant", "init", org)[0] == 0


def finops(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def sent() -> dict[str, list[str]]:
    """The queries Athena received, per workgroup."""
    athena = boto3.client("athena")
    return {
        group: [
            athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"]
            for i in athena.list_query_executions(WorkGroup=group)["QueryExecutionIds"]
        ]
        for group in WORKGROUPS
    }


@pytest.mark.parametrize(
    ("kind", "sql"),
    [
        ("UNLOAD", "UNLOAD (SELECT * FROM tb_cur_raw) TO 's3://finops-lake-prod/x/'"),
        ("INSERT", "INSERT INTO tb_cur_raw SELECT * FROM tb_cur_raw"),
        ("CREATE", "CREATE TABLE evil AS SELECT 1 AS n"),
        ("DROP", "DROP TABLE tb_cur_raw"),
        ("MSCK REPAIR", "MSCK REPAIR TABLE tb_cur_raw"),
        ("ALTER", "ALTER TABLE tb_cur_raw ADD PARTITION (org = 'x')"),
    ],
)
def test_a_writing_statement_never_reaches_athena(prod: None, kind: str, sql: str) -> None:
    for scope in (["--tenant", "alpha"], ["--central"]):
        code, output = finops("query", *scope, sql)
        assert (code, output) == (
            2,
            f"refused: {kind} statements are not allowed; queries are read-only\n",
        )
    assert sent() == {group: [] for group in WORKGROUPS}


def test_a_query_runs_in_the_workgroup_of_its_database_only(prod: None, aws: str) -> None:
    columns = [{"Name": "n", "Label": "n", "Type": "integer", "Precision": 0, "Scale": 0}]
    result = {"rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "1"}]}]}
    queue_athena_results(aws, [{**result, "column_info": columns}] * 2)
    assert finops("query", "--tenant", "beta", "--format", "csv", "SELECT 1 AS n") == (0, "n\n1\n")
    assert finops("query", "--central", "--format", "csv", "SELECT 1 AS n") == (0, "n\n1\n")
    assert sent() == {
        "primary": [],
        "wg_custos_alpha": [],
        "wg_custos_beta": ["SELECT 1 AS n"],
        "wg_custos_central": ["SELECT 1 AS n"],
    }
