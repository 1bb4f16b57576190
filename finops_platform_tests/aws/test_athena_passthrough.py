"""The Athena ingest's pass-through (moto server over HTTP, every request seen by a recording
proxy): a compatible CUR 2.0 month is copied into a fresh version prefix inside S3 (CopyObject:
no data byte through the worker, which reads only footers by ranged GETs), checked there with
the validation SQL, and marked complete; a legacy month is UNLOADed as before; a month failing
its checks leaves no version behind.

moto runs no SQL: the checks' answers are canned (`raw_ingest_results`). Athena's reads of
tb_cur_raw supply the lineage the copies lack through a view (lib/catalog/supplied_view.py;
tested in finops_platform_tests/lib/aws/test_glue_catalog.py and, on a staging run, in
test_aws_backend.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import unquote

import boto3
import pytest

from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.cur.athena_ingest import AthenaIngest
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.ingest import IngestResult, WorkerIngest
from finops_platform.lib.cur.passthrough import NORMALIZED, PASS_THROUGH
from finops_platform.lib.engine.athena import AthenaEngine
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import CurFormat, TenantConfig
from finops_platform_tests.support.fault_proxy import Request, fault_proxy
from finops_platform_tests.support.moto import queue_athena_results, raw_ingest_results

MONTH = dt.date(2026, 9, 1)
LAKE, SOURCE = "finops-lake-staging", "datalake-raw"
RAW_MONTH = "custos/cur/org=alpha/year=2026/month=9/"
ROWS = 30_000


class Recorder:
    """Every request the worker sends, and what it got back (bytes)."""

    def __init__(self) -> None:
        self.requests: list[tuple[Request, int]] = []

    def __call__(self, request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        self.requests.append((request, len(body)))
        return status, body

    def s3(self, method: str, bucket: str) -> list[tuple[Request, int]]:
        return [
            (r, n)
            for r, n in self.requests
            if r.method == method and not r.target and r.path.startswith(f"/{bucket}/")
        ]

    def queries(self) -> list[str]:
        return [
            json.loads(r.body)["QueryString"]
            for r, _ in self.requests
            if r.target.endswith("StartQueryExecution")
        ]


def deliver(local: Path, fmt: CurFormat) -> GeneratedDelivery:
    """Three 10,000-row files in the tenant's source path, manifest last."""
    s3 = boto3.client("s3")
    for bucket in (LAKE, SOURCE):
        s3.create_bucket(Bucket=bucket)
    delivery = generate_month(local, month=MONTH, rows=ROWS, fmt=fmt, seed=4, rows_per_file=10_000)
    for path in [*delivery.data_files, delivery.manifest_path]:
        s3.upload_file(str(path), SOURCE, f"tenant-alpha/{path.relative_to(local)}")
    return delivery


def ingest(
    aws: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch, results: list[dict]
) -> IngestResult:
    tenant = TenantConfig(org_id="alpha", source_path=f"s3://{SOURCE}/tenant-alpha/")
    store = S3ObjectStore(region="us-east-1")
    engine = AthenaEngine(
        region="us-east-1",
        store=store,
        workgroups={tenant.database: "primary"},
        results_root=f"s3://{LAKE}/athena-results/",
    )
    athena = AthenaIngest(
        engine=engine,
        catalog=GlueCatalog(region="us-east-1"),
        worker=WorkerIngest(store=store, memory_limit="1GB", threads=1),
    )
    queue_athena_results(aws, results)
    try:
        with fault_proxy(aws, recorder) as proxy:
            monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
            return athena.ingest(tenant, MONTH, f"s3://{LAKE}/")
    finally:
        monkeypatch.setenv("AWS_ENDPOINT_URL", aws)


def footer_start(key: str, size: int) -> int:
    """Where a data file's footer begins: everything before it is its data pages."""
    end = boto3.client("s3").get_object(Bucket=SOURCE, Key=key, Range=f"bytes={size - 8}-")
    return size - 8 - int.from_bytes(end["Body"].read()[:4], "little")


def lake_keys() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=LAKE, Prefix=RAW_MONTH)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def body(bucket: str, key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_cur2_month_is_copied_inside_s3_and_checked_without_an_unload(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(tmp_path / "delivery", "cur2")
    recorder = Recorder()
    result = ingest(aws, recorder, monkeypatch, raw_ingest_results(MONTH, ROWS)[1:])
    assert result.mode == PASS_THROUGH, result.mode_reason

    # Athena ran the two checks over the copied version, and no UNLOAD.
    queries = recorder.queries()
    assert len(queries) == 2 and not [q for q in queries if "UNLOAD" in q]
    assert "count_if" in queries[0]

    # One server-side CopyObject per data file into the version prefix, named as published.
    listed = boto3.client("s3").list_objects_v2(Bucket=SOURCE, Prefix="tenant-alpha/")
    sizes = {o["Key"]: o["Size"] for o in listed["Contents"] if o["Key"].endswith(".parquet")}
    copies = {
        unquote(r.copy_source).split("?")[0].removeprefix(f"{SOURCE}/").lstrip("/")
        for r, _ in recorder.s3("PUT", LAKE)
        if r.copy_source
    }
    assert copies == set(sizes)
    version = result.location.removeprefix(f"s3://{LAKE}/")
    assert version.startswith(f"{RAW_MONTH}v=")
    # The copies keep their delivery names, so a reader maps each to its delivery file by name.
    assert sorted(result.files) == sorted(key.rsplit("/", 1)[1] for key in sizes)
    assert f"{version}_SUCCESS" in lake_keys()
    by_file = result.supplied.by_file["x_source_file"] if result.supplied else {}
    for name, uri in by_file.items():  # byte for byte
        assert body(LAKE, version + name) == body(SOURCE, uri.removeprefix(f"s3://{SOURCE}/"))
    assert sorted(by_file.values()) == sorted(f"s3://{SOURCE}/{key}" for key in sizes)

    # The worker read only each data file's footer (ranged GETs inside it), and sent no data.
    data_gets = [
        (r, n)
        for r, n in recorder.s3("GET", SOURCE)
        if unquote(r.path.split("?")[0]).removeprefix(f"/{SOURCE}/") in sizes
    ]
    assert data_gets
    for request, _ in data_gets:
        key = unquote(request.path.split("?")[0]).removeprefix(f"/{SOURCE}/")
        assert request.range, f"an unranged GET of the data file {key}"
        first = int(request.range.removeprefix("bytes=").split("-")[0])
        assert first >= footer_start(key, sizes[key])
    uploads = [len(r.body) for r, _ in recorder.s3("PUT", LAKE) if not r.copy_source]
    assert uploads and max(uploads) == 0, uploads  # only the lock and the `_SUCCESS` marker


def test_a_legacy_month_is_still_unloaded(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(tmp_path / "delivery", "legacy")
    recorder = Recorder()
    result = ingest(aws, recorder, monkeypatch, raw_ingest_results(MONTH, ROWS))
    assert result.mode == NORMALIZED and "legacy" in result.mode_reason
    assert result.supplied is None
    assert recorder.queries()[0].startswith("UNLOAD (SELECT ")
    assert not [r for r, _ in recorder.requests if r.copy_source]


def test_a_copied_month_failing_its_checks_leaves_no_version(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(tmp_path / "delivery", "cur2")
    good = ingest(aws, Recorder(), monkeypatch, raw_ingest_results(MONTH, ROWS)[1:])
    kept = lake_keys()
    refused = raw_ingest_results(MONTH, ROWS, duplicated_keys=7)[1:]
    with pytest.raises(DeliveryError, match="raw_unique_line_items"):
        ingest(aws, Recorder(), monkeypatch, refused)
    assert lake_keys() == kept  # the copies were deleted; the good version is whole
    assert all(k.startswith(good.location.removeprefix(f"s3://{LAKE}/")) for k in kept)
