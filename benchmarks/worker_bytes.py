"""What a raw_cur ingest moves through the Dagster worker on AWS (issue 18), against moto server.

One generated CUR month (legacy Parquet, CUR 2.0 Parquet, or with `--format` gzip CSV) is put
in a tenant's S3 source path, then ingested twice in the same process, every request passing
through a recording proxy in front of moto (real HTTP on 127.0.0.1): the worker path
(`WorkerIngest`: the delivery downloaded, normalized by in-process DuckDB, the result uploaded,
as staging did before issue 18) and the Athena path (`AthenaIngest`: the manifest and each
file's footer, or its CSV header row, read; the rest is Athena's, or for a CUR 2.0 Parquet
month S3's CopyObject). moto runs no SQL, so the Athena path's UNLOAD writes nothing and its
validation answers are canned: the figures are the bytes the worker itself sends and receives,
which is what the two paths differ in. The seconds are the worker's wall time against moto on
this machine (moto copies an object in its own process, and runs no UNLOAD), beside the floor
(benchmarks/floor.py: a bare DuckDB copy of the delivery's files on local disk, timed in the
same process): for a CUR 2.0 Parquet month the Athena path's seconds are all of raw_cur's
ingest but S3's own copying; for the others they leave out Athena's UNLOAD.

    python -m benchmarks.worker_bytes [--rows 200000] [--format legacy|cur2|legacy-csv|cur2-csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import boto3

from benchmarks import floor
from benchmarks.measure import Timer
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.cur.athena_ingest import AthenaIngest
from finops_platform.lib.cur.ingest import WorkerIngest
from finops_platform.lib.engine.athena import AthenaEngine
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.sample.generate import generate_month
from finops_platform.settings import TenantConfig
from finops_platform_tests.support.fault_proxy import Request, fault_proxy
from finops_platform_tests.support.moto import moto_server, queue_athena_results, raw_ingest_results

MONTH = dt.date(2026, 9, 1)
SOURCE, LAKE = "datalake-raw", "finops-lake-staging"


class Tally:
    """Bytes received from (GET) and sent to (PUT) S3 by the worker, per bucket."""

    def __init__(self) -> None:
        self.received: dict[str, int] = {}
        self.sent: dict[str, int] = {}

    def __call__(self, request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        if not request.target:
            bucket = request.path.lstrip("/").split("/")[0].split("?")[0]
            if request.method == "GET":
                self.received[bucket] = self.received.get(bucket, 0) + len(body)
            if request.method == "PUT":
                self.sent[bucket] = self.sent.get(bucket, 0) + len(request.body)
        return status, body

    def total(self) -> int:
        return sum(self.received.values()) + sum(self.sent.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--format",
        choices=["legacy", "cur2", "legacy-csv", "cur2-csv"],
        default="legacy",
        dest="fmt",
    )
    args = parser.parse_args(argv)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1"
    )
    with tempfile.TemporaryDirectory() as work, moto_server(Path(work, "moto.log")) as moto:
        os.environ["AWS_ENDPOINT_URL"] = moto
        s3 = boto3.client("s3")
        for bucket in (SOURCE, LAKE):
            s3.create_bucket(Bucket=bucket)
        local = Path(work, "delivery")
        delivery = generate_month(local, month=MONTH, rows=args.rows, fmt=args.fmt, seed=7)
        for path in [*delivery.data_files, delivery.manifest_path]:
            s3.upload_file(str(path), SOURCE, f"alpha/{path.relative_to(local)}")
        data_bytes = sum(p.stat().st_size for p in delivery.data_files)
        tenant = TenantConfig(org_id="alpha", source_path=f"s3://{SOURCE}/alpha/")
        store = S3ObjectStore(region="us-east-1")
        catalog = GlueCatalog(region="us-east-1")
        catalog.ensure_database(tenant.database)
        engine = AthenaEngine(
            region="us-east-1",
            store=store,
            workgroups={tenant.database: "primary"},
            results_root=f"s3://{LAKE}/athena-results/",
        )
        # As before issue 18 (and as the AWS backend's fallback): every month normalized.
        worker = WorkerIngest(store=store, memory_limit="2GB", threads=2, pass_through=False)
        athena = AthenaIngest(engine=engine, catalog=catalog, worker=worker)
        figures, seconds = {}, {"floor": floor_seconds(delivery.data_files, args.rows, work)}
        for name in ("worker (DuckDB on the worker)", "Athena (issue 18)"):
            tally = Tally()
            with fault_proxy(moto, tally) as proxy:
                os.environ["AWS_ENDPOINT_URL"] = proxy
                started = time.perf_counter()
                if name.startswith("worker"):
                    result = worker.ingest(tenant, MONTH, f"s3://{LAKE}/")
                else:
                    # A copied month has no UNLOAD to answer: only its two checks.
                    answers = raw_ingest_results(MONTH, args.rows)[args.fmt == "cur2" :]
                    queue_athena_results(moto, answers)
                    result = athena.ingest(tenant, MONTH, f"s3://{LAKE}/")
                seconds[name] = time.perf_counter() - started
            os.environ["AWS_ENDPOINT_URL"] = moto
            figures[name] = tally
            print(f"{name}: {result.mode} ({result.mode_reason})")
    print(f"{args.fmt} CUR month: {args.rows:,} rows, {data_bytes:,} bytes of data files")
    print(
        "| ingest path | bytes from source bucket | bytes to lake | total through worker "
        "| seconds (moto) |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name, tally in figures.items():
        print(
            f"| {name} | {tally.received.get(SOURCE, 0):,} | {tally.sent.get(LAKE, 0):,} "
            f"| {tally.total():,} | {seconds[name]:.2f} |"
        )
    before, after = (t.total() for t in figures.values())
    print(f"bytes after / before: {after / before:.5f}")
    floor_s, slow, fast = seconds.values()
    print(f"seconds after / before: {fast / slow:.3f}")
    print(
        f"floor {floor_s:.2f} s; before / floor {slow / floor_s:.3f}; "
        f"after / floor {fast / floor_s:.3f}"
    )


def floor_seconds(files: list[Path], rows: int, work: str) -> float:
    """The floor's time on the delivery's files (2 GB, 2 threads, as the worker path)."""
    timer = Timer()
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        params = {"files": [str(p) for p in files], "rows": rows, "scratch": scratch}
        floor.run(params | {"memory_limit": "2GB", "threads": 2}, timer)
    return timer.seconds


if __name__ == "__main__":
    main()
