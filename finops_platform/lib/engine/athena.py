"""The AWS query engine: Athena, one workgroup per tenant.

Each query runs in the workgroup of the database it reads (`wg_custos_<org>`, whose enforced
configuration sets the result location and a bytes-scanned cutoff), is polled with backoff up to
a timeout (then cancelled), and a FAILED or CANCELLED query raises with Athena's own reason.
Results are paginated. What every query scanned, its engine time and its estimated cost are
kept on the session, so assets can record them per tenant.

Curated partitions are written with UNLOAD into a fresh version prefix (UNLOAD refuses a
non-empty target), which the caller then registers in Glue; the old version is retired after.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import AbstractContextManager, nullcontext
from decimal import Decimal
from typing import Any

import pyarrow as pa

from finops_platform.lake import new_version
from finops_platform.lib.aws import aws_client
from finops_platform.lib.engine.base import EngineSession, PartitionWrite, QueryEngine, QueryStats
from finops_platform.lib.sql import Identifier
from finops_platform.lib.store.s3 import S3ObjectStore

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# Athena refuses a query string longer than this many bytes (its StartQueryExecution quota).
QUERY_TEXT_LIMIT = 262_144


class AthenaQueryError(RuntimeError):
    """An Athena query that failed, was cancelled or timed out; says which and why."""


def _arrow_type(athena_type: str, precision: int, scale: int) -> pa.DataType:
    kind = athena_type.lower()
    if kind in ("varchar", "char", "string", "json"):
        return pa.string()
    if kind in ("bigint", "integer", "int", "smallint", "tinyint"):
        return pa.int64()
    if kind in ("double", "real", "float"):
        return pa.float64()
    if kind == "boolean":
        return pa.bool_()
    if kind == "decimal":
        return pa.decimal128(precision or 38, scale)
    if kind == "date":
        return pa.date32()
    if kind.startswith("timestamp"):
        return pa.timestamp("ms")
    return pa.string()  # arrays, maps, rows: kept as Athena's text


def _convert(value: str | None, kind: pa.DataType) -> object:
    if value is None:
        return None
    if pa.types.is_string(kind):
        return value
    if pa.types.is_integer(kind):
        return int(value)
    if pa.types.is_floating(kind):
        return float(value)
    if pa.types.is_boolean(kind):
        return value.lower() == "true"
    if pa.types.is_decimal(kind):
        return Decimal(value)
    if pa.types.is_date(kind):
        return dt.date.fromisoformat(value)
    return dt.datetime.fromisoformat(value.replace(" UTC", ""))


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def unload_statement(select: str, target: str, compression: str = "SNAPPY") -> str:
    """The UNLOAD of an Athena SELECT as Parquet files under the prefix `target`."""
    return (
        f"UNLOAD ({select}) TO {_sql_string(target)} "
        f"WITH (format = 'PARQUET', compression = {_sql_string(compression)})"
    )


def text_bytes(sql: str) -> int:
    """The length of a statement as Athena's limit counts it (`QUERY_TEXT_LIMIT`)."""
    return len(sql.encode("utf-8"))


class AthenaSession(EngineSession):
    dialect = "athena"

    def __init__(self, engine: AthenaEngine, database: str, workgroup: str) -> None:
        self.engine = engine
        self.database = database
        self.workgroup = workgroup
        self.stats = QueryStats()

    def query_native(self, sql: str) -> pa.Table:
        execution_id = self.execute(sql)
        return self._results(execution_id)

    def execute(self, sql: str) -> str:
        """Run one statement to completion; returns its execution id. A statement over
        Athena's length limit is refused here, by its size, as Athena would refuse it."""
        if text_bytes(sql) > QUERY_TEXT_LIMIT:
            raise AthenaQueryError(
                f"a statement of {text_bytes(sql):,} bytes for workgroup {self.workgroup} "
                f"(database {self.database}) is over Athena's {QUERY_TEXT_LIMIT:,}-byte limit "
                "on a query's text; not sent"
            )
        athena = self.engine.client()
        execution_id = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.database},
            WorkGroup=self.workgroup,
            ResultConfiguration={"OutputLocation": self.engine.results_location(self.workgroup)},
        )["QueryExecutionId"]
        execution = self._wait(athena, execution_id)
        statistics = execution.get("Statistics", {})
        self.stats.add(
            scanned_bytes=statistics.get("DataScannedInBytes", 0),
            engine_ms=statistics.get("EngineExecutionTimeInMillis", 0),
            price_per_tb=self.engine.price_per_tb_usd,
        )
        return execution_id

    def unload(self, select: str, target: str, compression: str = "SNAPPY") -> str:
        """Write the result of an Athena SELECT as Parquet files under the empty prefix
        `target` (UNLOAD refuses a non-empty one); returns the execution id. A failed or
        cancelled UNLOAD raises, and may have left some files there: the caller discards the
        prefix, which was never registered."""
        return self.execute(unload_statement(select, target, compression))

    def _wait(self, athena: Any, execution_id: str) -> dict[str, Any]:
        delay, deadline = 0.2, time.monotonic() + self.engine.timeout_seconds
        while True:
            execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution["Status"]
            if status["State"] == "SUCCEEDED":
                return execution
            if status["State"] in TERMINAL:
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
                    "ErrorMessage", "no reason given"
                )
                raise AthenaQueryError(
                    f"Athena query {execution_id} in workgroup {self.workgroup} "
                    f"(database {self.database}) {status['State']}: {reason}"
                )
            if time.monotonic() > deadline:
                athena.stop_query_execution(QueryExecutionId=execution_id)
                raise AthenaQueryError(
                    f"Athena query {execution_id} in workgroup {self.workgroup} "
                    f"(database {self.database}) timed out after "
                    f"{self.engine.timeout_seconds:g} s and was cancelled"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def _results(self, execution_id: str) -> pa.Table:
        pages = (
            self.engine.client()
            .get_paginator("get_query_results")
            .paginate(QueryExecutionId=execution_id)
        )
        columns: list[dict[str, Any]] = []
        rows: list[list[str | None]] = []
        for page in pages:
            result_set = page["ResultSet"]
            columns = columns or result_set["ResultSetMetadata"]["ColumnInfo"]
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in result_set["Rows"]]
        names = [c["Name"] for c in columns]
        if rows and rows[0] == names:  # Athena repeats the header as the first row
            rows = rows[1:]
        types = [_arrow_type(c["Type"], c.get("Precision", 0), c.get("Scale", 0)) for c in columns]
        arrays = [
            pa.array([_convert(row[i], kind) for row in rows], type=kind)
            for i, kind in enumerate(types)
        ]
        return pa.Table.from_arrays(arrays, names=names)


class AthenaEngine(QueryEngine):
    """Athena with a workgroup per catalog database; results under `results_root`."""

    region: str
    store: S3ObjectStore
    workgroups: dict[str, str]  # catalog database -> workgroup
    results_root: str
    timeout_seconds: float = 900
    price_per_tb_usd: float = 5.0

    def client(self) -> Any:
        return aws_client("athena", self.region)

    def results_location(self, workgroup: str) -> str:
        return f"{self.results_root.rstrip('/')}/{workgroup}/"

    def workgroup_of(self, database: str) -> str:
        if database not in self.workgroups:
            raise AthenaQueryError(f"no Athena workgroup is configured for database {database}")
        return self.workgroups[database]

    def session(self, database: str) -> AbstractContextManager[AthenaSession]:
        # An Athena session holds no connection, so there is nothing to close.
        return nullcontext(AthenaSession(self, database, self.workgroup_of(database)))

    def write_partition(self, database: str, sql: str, location: str) -> PartitionWrite:
        session = AthenaSession(self, database, self.workgroup_of(database))
        schema = session.query_native(f"SELECT * FROM ({sql}) LIMIT 0").schema
        version = new_version(location)
        session.unload(sql, version)
        files = {
            o.uri.removeprefix(version).lstrip("/"): o.size
            for o in self.store.list_objects(version)
        }
        return PartitionWrite(
            location=version,
            rows=self.store.parquet_rows(version),
            bytes=sum(files.values()),
            schema=schema,
            stats=session.stats,
            files=files,
        )

    def define_view(self, database: str, name: str, sql: str) -> pa.Schema:
        """Athena's own `CREATE OR REPLACE VIEW`, which checks the query and writes the Glue
        entry (a VIRTUAL_VIEW table with the query and its column types) itself."""
        session = AthenaSession(self, database, self.workgroup_of(database))
        view = f'"{Identifier(database).name}"."{Identifier(name).name}"'
        session.execute(f"CREATE OR REPLACE VIEW {view} AS {sql}")
        return session.query_native(f"SELECT * FROM {view} LIMIT 0").schema

    def ensure_workgroup(self, name: str, bytes_scanned_cutoff: int, dry_run: bool = False) -> str:
        """A workgroup with enforced configuration: result location and bytes-scanned cutoff."""
        athena = self.client()
        wanted = {
            "ResultConfiguration": {"OutputLocation": self.results_location(name)},
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "BytesScannedCutoffPerQuery": bytes_scanned_cutoff,
        }
        if name not in _workgroup_names(athena):
            if not dry_run:
                athena.create_work_group(
                    Name=name,
                    Configuration=wanted,
                    Description="FinOps platform: one tenant's queries",
                )
            return "create"
        current = athena.get_work_group(WorkGroup=name)["WorkGroup"]["Configuration"]
        if all(current.get(key) == value for key, value in wanted.items()):
            return "exists"
        if not dry_run:
            athena.update_work_group(
                WorkGroup=name,
                ConfigurationUpdates={
                    "ResultConfigurationUpdates": wanted["ResultConfiguration"],
                    "EnforceWorkGroupConfiguration": True,
                    "PublishCloudWatchMetricsEnabled": True,
                    "BytesScannedCutoffPerQuery": bytes_scanned_cutoff,
                },
            )
        return "update"


def _workgroup_names(athena: Any) -> set[str]:
    """Every workgroup's name (list_work_groups has no boto3 paginator)."""
    names: set[str] = set()
    kwargs: dict[str, str] = {}
    while True:
        page = athena.list_work_groups(**kwargs)
        names |= {group["Name"] for group in page["WorkGroups"]}
        if not page.get("NextToken"):
            return names
        kwargs = {"NextToken": page["NextToken"]}
