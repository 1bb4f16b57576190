"""raw_cur in staging runs inside Athena (moto server over HTTP, every request seen by a
recording proxy): the delivery is registered as a Glue table over its own files, UNLOADed
normalized into a fresh version prefix, validated there, and only then registered; the worker
reads the manifest and the Parquet footers of the data files, never their data.

moto runs no SQL: its Athena answers canned results, and `AthenaStandIn` writes a Parquet file
under an UNLOAD's target as Athena would (or fails the UNLOAD, leaving a half-written file).
What is tested here is the control flow; the SQL itself is the normalization the embedded
tests prove on DuckDB (finops_platform_tests/lib/cur/test_normalize.py).
"""

from __future__ import annotations

import csv as std_csv
import datetime as dt
import gzip
import io
import json
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import unquote

import boto3
import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from finops_platform.cli import main
from finops_platform.definitions import build_definitions
from finops_platform.defs.common.partitions import partition_key
from finops_platform.lib.catalog.base import CatalogTable
from finops_platform.lib.catalog.glue import GlueCatalog
from finops_platform.lib.cur.csv_source import (
    CSV_DIALECTS,
    HEADER_READ,
    OVERFLOW_COLUMN,
    csv_groups,
)
from finops_platform.lib.cur.manifest import GZIP, ZIP, parse_manifest
from finops_platform.lib.cur.normalize import Lineage, normalized_select, register_views
from finops_platform.lib.cur.sources import SourceFile, parquet_groups
from finops_platform.lib.cur.validation import profile_month
from finops_platform.lib.engine.athena import AthenaEngine, AthenaQueryError
from finops_platform.lib.engine.duckdb import DuckDBSession
from finops_platform.lib.sql import transpile
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import REPO_ROOT, load_settings
from finops_platform.settings import CurFormat as Format
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.fault_proxy import Request, fault_proxy
from finops_platform_tests.support.generated import with_flat_tags
from finops_platform_tests.support.moto import (
    canned,
    column,
    queue_athena_results,
    raw_ingest_results,
)

MONTH = dt.date(2026, 9, 1)
LAKE = "finops-lake-staging"
SOURCE = "datalake-raw"
RAW_MONTH = "custos/cur/org=alpha/year=2026/month=9/"
# pyarrow reads a Parquet footer with one ranged GET of at most this many bytes from the end.
FOOTER_READ = 64 * 1024
UNLOAD_TARGET = re.compile(
    r"\) TO '(s3://[^']+)' WITH \(format = 'PARQUET', compression = 'ZSTD'\)$"
)


@dataclass
class AthenaStandIn:
    """A proxy rewrite that records every request and plays Athena's part moto cannot: an
    UNLOAD writes a Parquet file under its target, or (`fail_unload`) a half-written one and
    then FAILS; Glue refuses a delivery table's columns with `glue_refuses` as its message
    (Glue's own checks of a column name, which moto does not make)."""

    upstream: str
    fail_unload: bool = False
    glue_refuses: str | None = None
    requests: list[tuple[Request, int]] = field(default_factory=list)
    unloads: dict[str, str] = field(default_factory=dict)  # execution id -> target
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.requests.append((request, len(body)))
        if self.glue_refuses and request.target == "AWSGlue.CreateTable":
            refused = {"__type": "ValidationException", "message": self.glue_refuses}
            return 400, json.dumps(refused).encode()
        if request.target.endswith("StartQueryExecution"):
            match = UNLOAD_TARGET.search(json.loads(request.body)["QueryString"])
            if match:
                self.unloads[json.loads(body)["QueryExecutionId"]] = match.group(1)
                self._write(match.group(1))
        if self.fail_unload and request.target.endswith("GetQueryExecution"):
            answer = json.loads(body)
            if answer["QueryExecution"]["QueryExecutionId"] in self.unloads:
                answer["QueryExecution"]["Status"] = {
                    "State": "FAILED",
                    "StateChangeReason": "HIVE_TOO_MANY_OPEN_PARTITIONS: stand-in failure",
                }
                return status, json.dumps(answer).encode()
        return status, body

    def _write(self, target: str) -> None:
        bucket, prefix = target.removeprefix("s3://").split("/", 1)
        buffer = io.BytesIO()
        pq.write_table(pa.table({"line_item_unblended_cost": [1.5, 2.5]}), buffer)
        s3 = boto3.client("s3", endpoint_url=self.upstream)
        s3.put_object(
            Bucket=bucket, Key=prefix + "20260901_000000_00001_abcd", Body=buffer.getvalue()
        )

    def queries(self) -> list[str]:
        return [
            json.loads(r.body)["QueryString"]
            for r, _ in self.requests
            if r.target.endswith("StartQueryExecution")
        ]

    def glue_calls(self) -> list[tuple[str, dict]]:
        return [
            (r.target.removeprefix("AWSGlue."), json.loads(r.body))
            for r, _ in self.requests
            if r.target.startswith("AWSGlue.")
        ]

    def gets(self, bucket: str) -> list[tuple[Request, int]]:
        """The S3 GetObject requests on objects of `bucket` (not its listings)."""
        return [
            (r, size)
            for r, size in self.requests
            if r.method == "GET"
            and not r.target
            and r.path.startswith(f"/{bucket}/")
            and len(r.path.split("?")[0]) > len(bucket) + 2
        ]


@pytest.fixture
def staging(
    aws: str, tmp_path: Path, finops_home: Path, monkeypatch: pytest.MonkeyPatch
) -> GeneratedDelivery:
    """The staging environment (Athena, S3, Glue) with one tenant delivering legacy CUR (kept
    under `tmp_path / "delivery"` too)."""
    s3 = boto3.client("s3")
    for bucket in (LAKE, SOURCE):
        s3.create_bucket(Bucket=bucket)
    config_dir = tmp_path / "config"
    (config_dir / "environments").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "config/environments/staging.json", config_dir / "environments")
    tenants = [tenant_entry("alpha", f"s3://{SOURCE}/tenant-alpha/")]
    (config_dir / "tenants.json").write_text(json.dumps(tenants))
    monkeypatch.setenv("CONFIG_PATH", str(config_dir / "tenants.json"))
    monkeypatch.setenv("ENVIRONMENT", "staging")
    result = CliRunner().invoke(main, ["tenant", "init", "alpha"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return deliver(tmp_path / "delivery", "legacy")


# How a test changes each data file of a delivery before it is put in S3.
Alter = Callable[[pa.Table], pa.Table]


def deliver(
    local: Path, fmt: Format, alter: Alter | None = None, csv_compression: str = GZIP
) -> GeneratedDelivery:
    """Three 10,000-row files (legacy Parquet: footers a small part of them), put in the
    tenant's source path, manifest last; each data file first rewritten by `alter`, if any."""
    delivery = generate_month(
        local,
        month=MONTH,
        rows=30_000,
        fmt=fmt,
        seed=4,
        rows_per_file=10_000,
        csv_compression=csv_compression,
    )
    for path in delivery.data_files if alter else []:
        pq.write_table(alter(pq.read_table(path)), path)
    for path in [*delivery.data_files, delivery.manifest_path]:
        boto3.client("s3").upload_file(str(path), SOURCE, f"tenant-alpha/{path.relative_to(local)}")
    return delivery


def object_key(request: Request) -> str:
    return unquote(request.path.split("?")[0].removeprefix(f"/{SOURCE}/"))


def footer_start(key: str, size: int) -> int:
    """Where a data file's footer (metadata, length, magic) begins: everything before it is
    the file's data pages."""
    end = boto3.client("s3").get_object(Bucket=SOURCE, Key=key, Range=f"bytes={size - 8}-")
    return size - 8 - int.from_bytes(end["Body"].read()[:4], "little")


def data_sizes(suffix: str = ".parquet") -> dict[str, int]:
    """The delivery's data files in S3: key -> size."""
    listed = boto3.client("s3").list_objects_v2(Bucket=SOURCE, Prefix="tenant-alpha/")
    return {o["Key"]: o["Size"] for o in listed["Contents"] if o["Key"].endswith(suffix)}


def read_back(rows: int) -> list[dict]:
    """What Athena answers tb_cur_raw's read-back of the registered month."""
    return [
        canned(
            [
                column("row_count", "bigint"),
                column("max_usage_start", "timestamp"),
                column("unblended_cost", "decimal", 38, 10),
                column("assembly_id", "varchar"),
            ],
            [str(rows), "2026-09-30 23:00:00.000", "4321.0000000000", "abc"],
        ),
        canned([column("passed", "boolean")], ["true"]),  # month_complete
    ]


def materialize(assets: list[str], instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(load_settings())
    return dg.materialize(
        assets=list(defs.assets or []),
        resources=defs.resources,
        instance=instance,
        partition_key=partition_key("alpha", MONTH),
        selection=dg.AssetSelection.assets(*assets),
        raise_on_error=False,
    )


def registered() -> str:
    (partition,) = boto3.client("glue").get_partitions(
        DatabaseName="custos_alpha_db", TableName="tb_cur_raw"
    )["Partitions"]
    return partition["StorageDescriptor"]["Location"]


def lake_keys() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=LAKE, Prefix="custos/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def tables() -> list[str]:
    listed = boto3.client("glue").get_tables(DatabaseName="custos_alpha_db")["TableList"]
    return sorted(t["Name"] for t in listed)


def run_through(
    stand_in: AthenaStandIn, assets: list[str], monkeypatch: pytest.MonkeyPatch
) -> dg.ExecuteInProcessResult:
    with fault_proxy(stand_in.upstream, stand_in) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        result = materialize(assets, dg.DagsterInstance.get())
    monkeypatch.setenv("AWS_ENDPOINT_URL", stand_in.upstream)
    return result


def assert_whole_trino(queries: list[str], target: str) -> None:
    """Each statement sent to Athena reads as Trino whole, and writes back to the same tree."""
    for query in queries:
        statement = query.removeprefix("UNLOAD (").rsplit(f") TO '{target}'", 1)[0]
        tree = sqlglot.parse_one(statement, read="trino", error_level=ErrorLevel.RAISE)
        assert isinstance(tree, exp.Query) and not list(tree.find_all(exp.Command))
        written = tree.sql("trino", unsupported_level=ErrorLevel.RAISE)
        assert sqlglot.parse_one(written, read="trino") == tree


def assert_only_footers_read(stand_in: AthenaStandIn) -> None:
    """The worker read each data file's footer and no other data byte: every GET of a data
    file is a ranged read that starts inside the footer."""
    sizes = data_sizes()
    data_gets = [(r, n) for r, n in stand_in.gets(SOURCE) if object_key(r) in sizes]
    assert {object_key(r) for r, _ in data_gets} == set(sizes)
    for request, _ in data_gets:
        key = object_key(request)
        assert request.range, f"an unranged GET of the data file {key}"
        first = int(request.range.removeprefix("bytes=").split("-")[0])
        assert first >= footer_start(key, sizes[key]), (key, request.range)
    footers = sum(size - footer_start(key, size) for key, size in sizes.items())
    assert sum(n for _, n in data_gets) == footers + 8 * len(sizes)


def assert_headers_only_read(stand_in: AthenaStandIn) -> None:
    """The worker read the start of each gzip CSV file, for its header row, and no more: one
    ranged GET of its first `HEADER_READ` bytes (or fewer, for a smaller file) each, a small
    part of the delivery."""
    sizes = data_sizes(".csv.gz")
    data_gets = [(r, n) for r, n in stand_in.gets(SOURCE) if object_key(r) in sizes]
    assert sorted(object_key(r) for r, _ in data_gets) == sorted(sizes)
    for request, _ in data_gets:
        size = sizes[object_key(request)]
        assert request.range == f"bytes=0-{min(HEADER_READ, size) - 1}", object_key(request)
    assert sum(n for _, n in data_gets) < sum(sizes.values()) / 10


# Registers the delivery's files on DuckDB as the Glue table `<name>_0` of the SQL sent to
# Athena: a view of the table's columns with "$path".
StandInTable = Callable[[duckdb.DuckDBPyConnection, list[SourceFile], str], None]


def parquet_table(
    connection: duckdb.DuckDBPyConnection, files: list[SourceFile], name: str
) -> None:
    register_views(connection, parquet_groups(files, "alpha"), name)


def opencsv_table(fmt: Format) -> StandInTable:
    """The gzip CSV files as Athena's OpenCSVSerde table of them reads them: the header row
    skipped, every field text, an empty one `''`, columns named as the delivery table's, and
    the overflow column empty (these rows have their header's fields)."""

    def register(connection: duckdb.DuckDBPyConnection, files: list[SourceFile], name: str) -> None:
        paths = [str(f.path) for f in files]
        scan = f"read_csv({paths}, header = true, all_varchar = true, quote = '\"', escape = '\"')"
        header = connection.sql(f"SELECT * FROM {scan} LIMIT 0").columns
        columns = ", ".join(
            f'coalesce("{column}", \'\') AS "{CSV_DIALECTS[fmt].column_name(column)}"'
            for column in header
        )
        uri = " ".join(f"WHEN '{f.path}' THEN '{f.uri}'" for f in files)
        connection.execute(
            f'CREATE VIEW "{name}_0" AS SELECT {columns}, NULL AS {OVERFLOW_COLUMN}, '
            f'CASE filename {uri} END AS "$path" FROM {scan[:-1]}, filename = true)'
        )

    return register


def assert_proven_on_duckdb(
    unload: str,
    target: str,
    delivered: GeneratedDelivery,
    local: Path,
    stand_in: StandInTable = parquet_table,
) -> tuple[duckdb.DuckDBPyConnection, list[SourceFile]]:
    """The SELECT Athena was sent, run on DuckDB over the same files (the Glue table a view
    with "$path"): the delivery's rows and exact total, every file as lineage, and the
    validation SQL passes it. Returns the connection, with that SELECT as `"staged"`, and the
    files."""
    select = unload.removeprefix("UNLOAD (").rsplit(f") TO '{target}'", 1)[0]
    (table,) = set(re.findall(r'FROM "(tb_cur_ingest_\w+?)_0"', select))
    files = [
        SourceFile(path, f"s3://{SOURCE}/tenant-alpha/{path.relative_to(local)}")
        for path in delivered.data_files
    ]
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    stand_in(connection, files, table)
    connection.execute(f'CREATE VIEW "staged" AS {transpile(select, "duckdb")}')
    proven = profile_month(DuckDBSession(connection), "staged", MONTH)
    assert proven.row_count == delivered.rows
    assert proven.unblended_cost == delivered.unblended_total
    assert proven.duplicated_keys == proven.rows_outside_period == 0
    sources = connection.sql('SELECT DISTINCT x_source_file FROM "staged"').fetchall()
    assert sorted(uri for (uri,) in sources) == sorted(f.uri for f in files)
    return connection, files


def assert_same_rows_as_the_worker(
    connection: duckdb.DuckDBPyConnection, files: list[SourceFile], fmt: Format, manifest: Path
) -> None:
    """The rows of `"staged"` (Athena's normalization, on DuckDB) are the worker's
    normalization of the same files, value for value, lineage included."""
    ((assembly_id, ingested),) = connection.sql(
        'SELECT DISTINCT x_assembly_id, x_ingestion_time FROM "staged"'
    ).fetchall()
    types = parse_manifest(manifest.read_bytes(), source=str(manifest)).columns
    groups = csv_groups(files, types, "alpha", CSV_DIALECTS[fmt])
    tables = register_views(connection, groups, "worker")
    worker = normalized_select(tables, Lineage(fmt, assembly_id, ingested), "alpha")
    connection.execute(f'CREATE VIEW "worker" AS {transpile(worker, "duckdb")}')
    for left, right in (("staged", "worker"), ("worker", "staged")):
        only = connection.sql(f'SELECT count(*) FROM (FROM "{left}" EXCEPT ALL FROM "{right}")')
        assert only.fetchall() == [(0,)], f"rows only in {left}"


# What an ingest of the month killed midway left: a delivery table and its file list.
LEFTOVER = "tb_cur_ingest_202609_0123456789ab_delivery_0"
LISTING = f"s3://{LAKE}/custos/_staging/cur/org=alpha/year=2026/month=9/0123456789ab/group=0/"


def leave_a_killed_ingest() -> None:
    GlueCatalog(region="us-east-1").create_file_list_table(
        CatalogTable(
            database="custos_alpha_db",
            name=LEFTOVER,
            location=LISTING,
            columns={"line_item_unblended_cost": "double"},
            partition_keys={},
        )
    )
    boto3.client("s3").put_object(Bucket=LAKE, Key=f"{LISTING}files.txt".split("/", 3)[3])


def test_gc_removes_what_a_killed_athena_ingest_left(staging: GeneratedDelivery) -> None:
    """`finops gc` finds a killed ingest's delivery table and file list (a dry run only lists
    them), removes them under the month's lock, and then finds nothing."""
    leave_a_killed_ingest()

    def gc(*args: str) -> list[dict]:
        result = CliRunner().invoke(main, ["gc", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    found = {(r["table"], r["kind"], r["location"]) for r in gc("--dry-run")}
    assert found == {
        (LEFTOVER, "ingest table", LISTING),
        ("tb_cur_raw", "ingest file lists", LISTING.removesuffix("0123456789ab/group=0/")),
    }
    assert LEFTOVER in tables() and f"{LISTING}files.txt".split("/", 3)[3] in lake_keys()
    assert {r["action"] for r in gc()} == {"removed"}
    assert tables() == []  # no month was loaded: the ingest table was the only one
    assert not [k for k in lake_keys() if k.startswith("custos/_staging/")]
    assert gc() == []


def test_a_staging_ingest_runs_in_athena_and_reads_no_data_byte(
    staging: GeneratedDelivery, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leave_a_killed_ingest()
    queue_athena_results(aws, [*raw_ingest_results(MONTH, 30_000), *read_back(30_000)])
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur", "tb_cur_raw"], monkeypatch)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]

    # Glue: a table over the delivery's own files (a list of them), the staged version's
    # table, both dropped after, and the partition pointed at the new version.
    calls = stand_in.glue_calls()
    created = [body["TableInput"] for name, body in calls if name == "CreateTable"]
    delivery, staged = [t for t in created if t["Name"] != "tb_cur_raw"]
    assert re.fullmatch(r"tb_cur_ingest_202609_[0-9a-f]{12}_delivery_0", delivery["Name"])
    storage = delivery["StorageDescriptor"]
    assert storage["InputFormat"].endswith("SymlinkTextInputFormat")
    assert "resource_tags_user_team" in [c["Name"] for c in storage["Columns"]]
    assert staged["Name"] == delivery["Name"].replace("_delivery_0", "_staged")
    dropped = [body["Name"] for name, body in calls if name == "DeleteTable"]
    assert dropped == [LEFTOVER, delivery["Name"], staged["Name"]]
    assert tables() == ["tb_cur_raw"]

    # Athena: the UNLOAD of the normalizing SELECT over that table into a fresh version,
    # then the validation SQL over the staged version, then tb_cur_raw's read-back.
    unload, profile_sql, duplicates_sql, *read_back_sql = stand_in.queries()
    (target,) = stand_in.unloads.values()
    assert (
        unload.startswith("UNLOAD (SELECT ") and f'FROM "{delivery["Name"]}" AS "source"' in unload
    )
    assert target.startswith(f"s3://{LAKE}/{RAW_MONTH}v=")
    assert f'FROM "{staged["Name"]}"' in profile_sql and "count_if" in profile_sql
    assert f'FROM "{staged["Name"]}"' in duplicates_sql
    assert len(read_back_sql) == 2
    assert_whole_trino(stand_in.queries(), target)
    assert registered() == target
    assert f"{target.removeprefix(f's3://{LAKE}/')}_SUCCESS" in lake_keys()
    assert not [k for k in lake_keys() if k.startswith("custos/_staging/")]  # every list gone

    assert_only_footers_read(stand_in)
    assert_proven_on_duckdb(unload, target, staging, tmp_path / "delivery")
    assert staging.rows == 30_000

    metadata = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("raw_cur")
    )
    assert metadata["query_count"].value == 3
    assert {"query_scanned_bytes", "query_engine_ms", "query_cost_usd"} <= set(metadata)
    assert metadata["dagster/uri"].value == target
    assert metadata["files"].value == 1


def test_a_failed_unload_or_check_leaves_the_previous_version_registered(
    staging: GeneratedDelivery, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_athena_results(aws, [*raw_ingest_results(MONTH, 30_000), *read_back(30_000)])
    good = run_through(AthenaStandIn(aws), ["raw_cur", "tb_cur_raw"], monkeypatch)
    assert good.success
    previous = registered()
    kept = lake_keys()

    # The UNLOAD fails after writing part of its output: nothing of it is registered or kept.
    queue_athena_results(aws, raw_ingest_results(MONTH, 30_000)[:1])  # only the UNLOAD runs
    failing = AthenaStandIn(aws, fail_unload=True)
    failed = run_through(failing, ["raw_cur", "tb_cur_raw"], monkeypatch)
    assert not failed.success
    (failure,) = failed.get_step_failure_events()
    assert failure.step_key == "raw_cur"
    error = str(failure.step_failure_data.error)
    assert "tenant 'alpha', month 2026-09: Athena query " in error
    assert "FAILED: HIVE_TOO_MANY_OPEN_PARTITIONS" in error
    assert failing.unloads  # it did write there, before failing
    assert registered() == previous and lake_keys() == kept and tables() == ["tb_cur_raw"]

    # The staged version holds duplicated line items: the check fails, the version goes.
    queue_athena_results(aws, raw_ingest_results(MONTH, 30_000, duplicated_keys=7))
    refused = run_through(AthenaStandIn(aws), ["raw_cur", "tb_cur_raw"], monkeypatch)
    assert not refused.success
    (failure,) = refused.get_step_failure_events()
    assert failure.step_key == "raw_cur"
    message = str(failure.step_failure_data.error)
    assert "raw_unique_line_items" in message and "previous version of the month is kept" in message
    assert registered() == previous and lake_keys() == kept and tables() == ["tb_cur_raw"]

    # And a later good delivery replaces it, retiring the old version.
    queue_athena_results(aws, [*raw_ingest_results(MONTH, 30_000), *read_back(30_000)])
    assert run_through(AthenaStandIn(aws), ["raw_cur", "tb_cur_raw"], monkeypatch).success
    assert registered() != previous
    assert not [k for k in lake_keys() if k.startswith(previous.removeprefix(f"s3://{LAKE}/"))]


def redeliver(
    local: Path, fmt: Format, alter: Alter | None = None, csv_compression: str = GZIP
) -> GeneratedDelivery:
    """The tenant now delivers `fmt` instead of legacy Parquet (`deliver`)."""
    s3 = boto3.client("s3")
    for listed in s3.list_objects_v2(Bucket=SOURCE, Prefix="tenant-alpha/")["Contents"]:
        s3.delete_object(Bucket=SOURCE, Key=listed["Key"])
    return deliver(local, fmt, alter, csv_compression)


def all_null(column: str) -> Alter:
    """`column` holding only NULLs, as Arrow's null type (a writer that never saw a value)."""

    def alter(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index(column)
        return table.set_column(index, column, pa.nulls(table.num_rows))

    return alter


def test_a_focus_export_in_parquet_is_mapped_inside_athena(
    staging: GeneratedDelivery, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS's FOCUS export in Parquet goes the Athena way too: its mapping (focus_source.py,
    which numbers equal rows with a window) is UNLOADed over a table of its own files, the
    worker reads only footers, and the SQL Athena was sent gives, on DuckDB over the same
    files, a line item per FOCUS row and the export's exact BilledCost total. The table's
    columns are registered in lower case, as Athena keeps them, and a column of only NULLs
    (Arrow's null type, which has no catalog type) is left out and read as NULL."""
    focus = redeliver(tmp_path / "focus", "focus", all_null("AvailabilityZone"))
    queue_athena_results(aws, raw_ingest_results(MONTH, focus.rows))
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    unload, profile_sql, _ = stand_in.queries()
    (target,) = stand_in.unloads.values()
    assert unload.startswith("UNLOAD (SELECT ") and '"focus_row_key"' in unload
    (columns,) = [
        [c["Name"] for c in body["TableInput"]["StorageDescriptor"]["Columns"]]
        for name, body in stand_in.glue_calls()
        if name == "CreateTable" and body["TableInput"]["Name"].endswith("_delivery_0")
    ]
    assert "chargeperiodstart" in columns and "availabilityzone" not in columns
    assert all(c == c.lower() for c in columns)
    assert "row_number() OVER" in unload and "count_if" in profile_sql
    assert_whole_trino(stand_in.queries(), target)
    assert_only_footers_read(stand_in)
    assert_proven_on_duckdb(unload, target, focus, tmp_path / "focus")
    metadata = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    )
    assert metadata["source_format"].value == "focus"
    assert metadata["dagster/uri"].value == target


def test_columns_athena_cannot_tell_apart_fail_the_month_by_file(
    staging: GeneratedDelivery, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Athena matches column names without case, so a file with `BilledCost` and `billedcost`
    cannot be registered: the month fails naming the file, before any query, and nothing is
    registered for it."""

    def twin(table: pa.Table) -> pa.Table:
        return table.append_column("billedcost", table.column("BilledCost"))

    redeliver(tmp_path / "focus", "focus", twin)
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = str(failure.step_failure_data.error)
    assert "tenant 'alpha', month 2026-09" in message and ".parquet" in message
    assert "two columns differ only in case" in message
    assert stand_in.queries() == [] and tables() == []


@pytest.mark.parametrize("fmt", ["legacy-csv", "cur2-csv", "focus-csv"])
def test_a_gzip_csv_delivery_is_normalized_inside_athena(
    fmt: Format,
    staging: GeneratedDelivery,
    aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A gzip CSV delivery (legacy, CUR 2.0, FOCUS) goes the Athena way too: the worker reads
    each file's header row from its first bytes, registers the files as an OpenCSVSerde table of
    text columns in header order, and UNLOADs the normalization over them typed by the
    manifest; the SQL sent, run on DuckDB over the files read as that serde reads them, gives
    the delivery's rows and exact total, and exactly the rows the worker's own read of them
    gives."""
    csv = redeliver(tmp_path / "csv", fmt)
    queue_athena_results(aws, raw_ingest_results(MONTH, csv.rows))
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    (delivery,) = [
        body["TableInput"]
        for name, body in stand_in.glue_calls()
        if name == "CreateTable" and body["TableInput"]["Name"].endswith("_delivery_0")
    ]
    storage = delivery["StorageDescriptor"]
    assert storage["InputFormat"].endswith("SymlinkTextInputFormat")
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("OpenCSVSerde")
    serde = storage["SerdeInfo"]["Parameters"]
    assert (serde["separatorChar"], serde["quoteChar"], serde["escapeChar"]) == (",", '"', "\ue000")
    assert delivery["Parameters"]["skip.header.line.count"] == "1"
    with gzip.open(csv.data_files[0], "rt", encoding="utf-8") as first:
        header = next(std_csv.reader(first))
    columns = [(c["Name"], c["Type"]) for c in storage["Columns"]]
    named = CSV_DIALECTS[fmt].column_name
    assert columns == [
        *[(named(column).lower(), "string") for column in header],
        (OVERFLOW_COLUMN, "string"),
    ]

    unload, profile_sql, _ = stand_in.queries()
    (target,) = stand_in.unloads.values()
    assert unload.startswith("UNLOAD (SELECT ") and "from_iso8601_timestamp(" in unload
    assert "count_if" in profile_sql
    assert_whole_trino(stand_in.queries(), target)
    assert_headers_only_read(stand_in)
    connection, files = assert_proven_on_duckdb(
        unload, target, csv, tmp_path / "csv", opencsv_table(fmt)
    )
    assert_same_rows_as_the_worker(connection, files, fmt, csv.manifest_path)
    metadata = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    )
    assert metadata["source_format"].value == fmt
    assert metadata["dagster/uri"].value == target


def test_a_zip_csv_report_is_normalized_on_the_worker(
    staging: GeneratedDelivery,
    aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Athena cannot read ZIP: a legacy CSV report compressed as ZIP is unpacked and
    normalized on the worker, the month loads whole, and no query is sent."""
    csv = redeliver(tmp_path / "csv", "legacy-csv", csv_compression=ZIP)
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    assert stand_in.queries() == []
    metadata = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    )
    assert metadata["ingest_mode_reason"].value.startswith(
        "normalized on the worker: Athena reads no ZIP; "
    )
    assert metadata["source_format"].value == "legacy-csv"
    assert metadata["dagster/row_count"].value == csv.rows
    assert metadata["unblended_cost"].value == float(csv.unblended_total)
    version = metadata["dagster/uri"].value.removeprefix(f"s3://{LAKE}/")
    assert f"{version}_SUCCESS" in lake_keys()


def test_columns_glue_refuses_fail_the_month_by_file(
    staging: GeneratedDelivery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str
) -> None:
    """A column name Glue will not take (its own checks, not ours) fails the month naming
    tenant, month, the table's first file and Glue's reason: no query, no table left, the lake
    as it was."""
    lake = lake_keys()
    refusal = "1 validation error detected: Value at 'table.storageDescriptor.columns.1.name'"
    stand_in = AthenaStandIn(aws, glue_refuses=refusal)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = str(failure.step_failure_data.error)
    first = f"s3://{SOURCE}/tenant-alpha/{staging.data_files[0].relative_to(tmp_path / 'delivery')}"
    assert f"tenant 'alpha', month 2026-09: {first}: Glue cannot register its columns: " in message
    assert refusal in message
    assert stand_in.queries() == [] and tables() == [] and lake_keys() == lake


def rewrite_first_part(local: Path, delivered: GeneratedDelivery, content: bytes) -> str:
    """Replace the delivery's first data file in S3 with `content`; returns its URI."""
    key = f"tenant-alpha/{delivered.data_files[0].relative_to(local)}"
    boto3.client("s3").put_object(Bucket=SOURCE, Key=key, Body=content)
    return f"s3://{SOURCE}/{key}"


def renamed_header(path: Path) -> bytes:
    """The gzip CSV file with its header's `lineItem/UnblendedCost` renamed to a column its
    manifest does not list."""
    text = gzip.decompress(path.read_bytes())
    header, rows = text.split(b"\n", 1)
    assert b"lineItem/UnblendedCost" in header
    return gzip.compress(
        header.replace(b"lineItem/UnblendedCost", b"lineItem/Unlisted") + b"\n" + rows
    )


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (renamed_header, "column 'lineItem/Unlisted' is not in the manifest's columns"),
        (lambda path: gzip.decompress(path.read_bytes()), "not a readable gzip CSV file"),
    ],
    ids=["a header the manifest does not list", "a part that is not gzip"],
)
def test_a_csv_part_athena_could_not_read_as_its_manifest_says_fails_by_name(
    damage: Callable[[Path], bytes],
    reason: str,
    staging: GeneratedDelivery,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    aws: str,
) -> None:
    """A gzip CSV part whose header is not its manifest's, or that is not gzip at all, fails
    the month naming tenant, month, file and cause, from its first bytes: before any Glue table
    or Athena query, and the lake is left as it was."""
    local = tmp_path / "csv"
    csv = redeliver(local, "legacy-csv")
    uri = rewrite_first_part(local, csv, damage(csv.data_files[0]))
    lake = lake_keys()
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = str(failure.step_failure_data.error)
    assert f"tenant 'alpha', month 2026-09: {uri}: " in message and reason in message
    assert stand_in.queries() == [] and tables() == [] and lake_keys() == lake


# Flat tag columns enough for the normalizing SELECT to pass Athena's limit on a query's text.
WIDE = 3_000


def test_a_delivery_too_wide_for_athenas_query_text_is_normalized_on_the_worker(
    staging: GeneratedDelivery,
    aws: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thousands of flat tag columns make the normalizing SELECT longer than Athena takes
    (262,144 bytes): the month is normalized on the worker instead of failing in Athena,
    loads whole with every tag, and says why in its metadata; no Glue table, no query."""
    wide = redeliver(tmp_path / "wide", "legacy", alter=partial(with_flat_tags, width=WIDE))
    stand_in = AthenaStandIn(aws)
    result = run_through(stand_in, ["raw_cur"], monkeypatch)
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    assert stand_in.queries() == [] and stand_in.glue_calls() == [] and tables() == []
    metadata = next(
        e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    )
    reason = metadata["ingest_mode_reason"].value
    size = int(re.search(r"a statement of ([\d,]+) bytes", reason)[1].replace(",", ""))
    assert reason.startswith("normalized on the worker: in Athena it would be") and size > 262_144
    assert metadata["dagster/row_count"].value == wide.rows
    assert metadata["unblended_cost"].value == float(wide.unblended_total)
    version = metadata["dagster/uri"].value.removeprefix(f"s3://{LAKE}/")
    assert f"{version}_SUCCESS" in lake_keys()
    (part,) = [k for k in lake_keys() if k.startswith(version) and k.endswith(".parquet")]
    local = tmp_path / "published.parquet"
    boto3.client("s3").download_file(LAKE, part, str(local))
    tags = duckdb.sql(
        f"SELECT count(*) FROM (SELECT unnest(map_keys(resource_tags)) AS k FROM '{local}') "
        "WHERE starts_with(k, 'user_k')"
    ).fetchall()
    assert tags == [(wide.rows,)]


def test_a_statement_over_athenas_limit_is_refused_before_it_is_sent(aws: str) -> None:
    """The engine refuses what Athena would, by its size and without a request (moto takes any
    length, Athena does not)."""
    engine = AthenaEngine(
        region="us-east-1",
        store=S3ObjectStore(region="us-east-1"),
        workgroups={"custos_alpha_db": "primary"},
        results_root=f"s3://{LAKE}/athena-results/",
    )
    statement = "SELECT " + " + ".join("1" for _ in range(70_000))
    with (
        engine.session("custos_alpha_db") as session,
        pytest.raises(AthenaQueryError, match=r"a statement of 280,004 bytes .*over Athena's"),
    ):
        session.execute(statement)
    assert boto3.client("athena").list_query_executions()["QueryExecutionIds"] == []
