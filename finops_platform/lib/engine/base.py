"""What the pipeline needs from a query engine."""

from __future__ import annotations

from contextlib import AbstractContextManager

import dagster as dg
import pyarrow as pa

from finops_platform.lib.sql import SqlValue, load_sql, render, transpile
from finops_platform.settings import TenantConfig


class EngineSession:
    """Queries in one tenant's catalog database; unqualified table names resolve there."""

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


class QueryEngine(dg.ConfigurableResource):
    """Base of the query engine resources."""

    def session(self, tenant: TenantConfig) -> AbstractContextManager[EngineSession]:
        """A session that sees only `tenant`'s catalog database and data."""
        raise NotImplementedError
