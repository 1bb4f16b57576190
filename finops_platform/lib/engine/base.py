"""What the pipeline needs from a query engine."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa

from finops_platform.lib.sql import SqlValue, load_sql, render, transpile


class EngineSession:
    """Queries in one catalog database; unqualified table names resolve there."""

    dialect: str

    def query_native(self, sql: str) -> pa.Table:
        """Run SQL already in the engine's dialect."""
        raise NotImplementedError

    def query(self, athena_sql: str) -> pa.Table:
        """Run Athena (Trino) SQL, transpiled for the engine."""
        return self.query_native(transpile(athena_sql, self.dialect))

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


class QueryEngine(dg.ConfigurableResource):
    """Base of the query engine resources."""

    def session(self, database: str) -> AbstractContextManager[EngineSession]:
        """A session that sees only the tables of one catalog database and their data."""
        raise NotImplementedError

    def write_partition(self, database: str, athena_select: str, location: str) -> PartitionWrite:
        """Write the result of a query in `database` as a new version of the prefix `location`.

        The old version stays readable: the caller registers the new version's location
        (`PartitionWrite.location`) in the catalog, then retires the old one from the store.
        """
        raise NotImplementedError
