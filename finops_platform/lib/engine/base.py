"""What the pipeline needs from a query engine."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import dagster as dg
import pyarrow as pa

from finops_platform.lib.sql import SqlValue, load_sql, read_only_statement, render, transpile


@dataclass
class QueryStats:
    """What a session's queries cost: Athena bills by bytes scanned (DuckDB costs nothing)."""

    queries: int = 0
    scanned_bytes: int = 0
    engine_ms: int = 0
    cost_usd: float = 0.0

    def add(self, scanned_bytes: int, engine_ms: int, price_per_tb: float) -> None:
        self.queries += 1
        self.scanned_bytes += scanned_bytes
        self.engine_ms += engine_ms
        # Athena bills at least 10 MB per query, in whole megabytes.
        billed = max(scanned_bytes, 10 * 1024**2) if scanned_bytes else 0
        self.cost_usd += billed / 1024**4 * price_per_tb

    def plus(self, other: QueryStats) -> QueryStats:
        return QueryStats(
            queries=self.queries + other.queries,
            scanned_bytes=self.scanned_bytes + other.scanned_bytes,
            engine_ms=self.engine_ms + other.engine_ms,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    def metadata(self) -> dict[str, float | int]:
        """Per-tenant query cost and performance, as asset metadata."""
        return {
            "query_count": self.queries,
            "query_scanned_bytes": self.scanned_bytes,
            "query_engine_ms": self.engine_ms,
            "query_cost_usd": round(self.cost_usd, 6),
        }


class EngineSession:
    """Queries in one catalog database; unqualified table names resolve there."""

    dialect: str
    stats: QueryStats

    def query_native(self, sql: str) -> pa.Table:
        """Run SQL already in the engine's dialect."""
        raise NotImplementedError

    def query(self, sql: str) -> pa.Table:
        """Run Athena (Trino) SQL, transpiled for the engine."""
        return self.query_native(transpile(sql, self.dialect))

    def query_batches(self, sql: str) -> pa.RecordBatchReader:
        """Run Athena (Trino) SQL and stream the result in record batches, for a result too
        large to hold (`finops export` of a month of line items). Consumed inside the session.
        By default the engine's whole result, as batches; an engine that can stream does."""
        return self.query(sql).to_reader()

    def user_query(self, sql: str) -> pa.Table:
        """Run one statement a user wrote: refused (ReadOnlyError) unless it only reads, before
        it reaches the engine; the session itself can change nothing either."""
        read_only_statement(sql)
        return self.query(sql)

    def query_file(self, relative_path: str, params: dict[str, SqlValue]) -> pa.Table:
        """Run `sql/<relative_path>` with its parameters."""
        return self.query(render(load_sql(relative_path), params))


@dataclass(frozen=True)
class PartitionWrite:
    """What writing one table partition produced."""

    location: str
    rows: int
    bytes: int
    schema: pa.Schema
    stats: QueryStats = field(default_factory=QueryStats)
    files: dict[str, int] = field(default_factory=dict)  # published file name -> bytes


class QueryEngine(dg.ConfigurableResource):
    """Base of the query engine resources."""

    def session(self, database: str) -> AbstractContextManager[EngineSession]:
        """A session that sees only the tables of one catalog database and their data."""
        raise NotImplementedError

    def write_partition(self, database: str, sql: str, location: str) -> PartitionWrite:
        """Write the result of a query in `database` as a new version of the prefix `location`.

        The old version stays readable: the caller registers the new version's location
        (`PartitionWrite.location`) in the catalog, then retires the old one from the store.
        """
        raise NotImplementedError

    def define_view(self, database: str, name: str, sql: str) -> pa.Schema:
        """Create or replace the view `name` in `database` as the Athena SELECT `sql` (its
        table names qualified by `database`), registered in the catalog as the engine registers
        views; returns its columns. Raises, defining nothing, when the query does not bind."""
        raise NotImplementedError

    def ensure_workgroup(self, name: str, bytes_scanned_cutoff: int, dry_run: bool = False) -> str:
        """Provision the tenant's query workgroup; returns what was (or would be) done."""
        raise NotImplementedError
