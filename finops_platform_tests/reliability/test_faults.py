"""Faults (issue 7): a process killed mid-ingest, and S3 answering 503 for a while or for good.
(Athena FAILED and timed-out queries are in aws/test_aws_backend.py; an unreachable Slack in
defs/test_alerts.py.)"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.sample import generate_month
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.fault_proxy import Request, Rewrite, fault_proxy

MONTH = dt.date(2026, 9, 1)
COUNT = "SELECT count(*) AS n FROM tb_cur_raw WHERE year = 2026 AND month = 9"
FINOPS = Path(sys.executable).with_name("finops")
SLOW_DOWN = (
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
)


def rows_visible() -> int:
    result = CliRunner().invoke(main, ["query", "--tenant", "acme", "--format", "json", COUNT])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)[0]["n"]


def test_sigkill_mid_ingest_keeps_the_previous_month_and_a_rerun_completes(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source, cur_format="legacy")])
    generate_month(source, month=MONTH, rows=2000, fmt="legacy", seed=1)
    run = ["run", "--tenant", "acme", "--month", "2026-09"]
    assert CliRunner().invoke(main, run).exit_code == 0
    assert rows_visible() == 2000

    restated = generate_month(source, month=MONTH, rows=800_000, fmt="legacy", seed=2)
    staging = finops_home / "buckets/finops-lake/custos/_staging"
    process = subprocess.Popen(
        [str(FINOPS), *run],
        env=os.environ.copy(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any(staging.rglob("*")) and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the normalization of 800k rows
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    assert rows_visible() == 2000  # the previous version, whole
    assert CliRunner().invoke(main, run).exit_code == 0
    assert rows_visible() == restated.rows


def flaky_s3(failures: dict[str, int]) -> Rewrite:
    """S3 answers 503 SlowDown to the first `failures[method]` requests of each method."""

    def rewrite(request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        if request.target or failures.get(request.method, 0) <= 0:
            return status, body
        failures[request.method] -= 1
        return 503, SLOW_DOWN

    return rewrite


def test_transient_s3_503s_are_retried(
    aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    boto3.client("s3").create_bucket(Bucket="lake")
    folder = tmp_path / "staged"
    folder.mkdir()
    pq.write_table(pa.table({"x": [1, 2, 3]}), folder / "part-0.parquet")
    month = "s3://lake/custos/cur/org=a/year=2026/month=9/"
    failures = {"PUT": 3, "GET": 3}
    with fault_proxy(aws, flaky_s3(failures)) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        store = S3ObjectStore(region="us-east-1")
        version = store.publish(folder, month)
        assert store.current_version(month) == version
        assert [o.uri.rsplit("/", 1)[-1] for o in store.list_objects(version)] == ["part-0.parquet"]
    assert failures == {"PUT": 0, "GET": 0}  # every injected 503 was met, and retried


def test_persistent_s3_errors_fail_clearly(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("s3").create_bucket(Bucket="lake")
    with fault_proxy(aws, flaky_s3({"GET": 10_000})) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        with pytest.raises(ClientError, match=r"\(SlowDown\).*ListObjectsV2.*reached max retries"):
            S3ObjectStore(region="us-east-1").list_objects("s3://lake/custos/")
