"""Every user mistake and backend failure is one line on stderr and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from finops_platform import cli
from finops_platform_tests.cli.support import finops, one_error
from finops_platform_tests.conftest import WriteConfig, tenant_entry


@pytest.fixture
def acme(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source)])
    return source


def test_too_few_demo_rows_are_refused_up_front(acme: Path) -> None:
    one_error(finops("demo-data", "--rows-per-month", "100"), "--rows-per-month", "500")
    assert not acme.exists()


def test_two_statements_are_refused(acme: Path) -> None:
    one_error(finops("query", "--tenant", "acme", "SELECT 1; SELECT 2"), "2 statements")


@pytest.mark.parametrize("sql", ["", "  ;  "])
def test_empty_sql_is_refused(acme: Path, sql: str) -> None:
    one_error(finops("query", "--tenant", "acme", sql), "SQL is empty")


def test_query_before_any_data_says_how_to_load_it(acme: Path) -> None:
    one_error(
        finops("query", "--tenant", "acme", "SELECT count(*) FROM tb_cur_raw"),
        "tenant acme has no table tb_cur_raw yet",
        "finops demo-data && finops run",
    )


def test_central_query_before_any_run_says_run_first(acme: Path) -> None:
    one_error(
        finops("query", "--central", "SELECT * FROM cost_cross_org_monthly"),
        "central database has no table cost_cross_org_monthly",
        "finops run",
    )


def test_run_with_nothing_delivered_says_where_and_what_to_do(acme: Path) -> None:
    one_error(finops("run"), "nothing to run", str(acme), "finops demo-data")


def test_unknown_option_and_bad_month_are_one_line(acme: Path) -> None:
    one_error(finops("--bogus", "sla"), "--bogus", "--help`")
    one_error(finops("run", "--month", "2026-13"), "2026-13", "YYYY-MM")
    one_error(finops("query", "SELECT 1"), "--tenant ORG or --central")


def test_an_unknown_tenant_is_named(acme: Path) -> None:
    one_error(finops("query", "--tenant", "nobody", "SELECT 1"), "unknown tenant 'nobody'")


@pytest.fixture
def prod(finops_home: Path, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS environment, pointed at a port nothing listens on, retried once only."""
    write_config([tenant_entry("acme", "s3://acme-cur/cur/")])
    monkeypatch.setattr("finops_platform.lib.aws.RETRIES", Config(retries={"max_attempts": 1}))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(finops_home / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(finops_home / "no-config"))


def test_unreachable_aws_names_the_call_and_what_to_check(
    prod: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    one_error(
        finops("--env", "prod", "sla"),
        "cannot reach AWS glue GetTable",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
    )


def test_no_credentials_says_how_to_give_them(prod: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    one_error(
        finops("--env", "prod", "sla"),
        "AWS glue GetTable",
        "Unable to locate credentials",
        "AWS_ACCESS_KEY_ID",
    )


def test_a_refused_aws_call_names_the_code(acme: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: object) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not for you"}}, "GetTable"
        )

    monkeypatch.setattr(cli, "tenant_freshness", refused)
    one_error(finops("sla"), "AWS GetTable refused: AccessDeniedException: not for you")


def test_an_unexpected_error_is_one_line_unless_debug(
    acme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli, "tenant_freshness", broken)
    one_error(finops("sla"), "unexpected RuntimeError: boom second line", "--debug")
    assert isinstance(finops("--debug", "sla").exception, RuntimeError)
    monkeypatch.setenv("FINOPS_DEBUG", "1")
    assert isinstance(finops("sla").exception, RuntimeError)
