"""Dashboard queries: the SQL files under `sql/dashboard/`, run through the engine in scope.

Every read goes through the platform's engine session of one catalog database (DuckDB embedded,
Athena in AWS) and the catalog; the scope decides which database that may be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from finops_platform.dashboard.frames import to_frame
from finops_platform.dashboard.scope import Scope
from finops_platform.defs.common.keys import COST_DAILY, CROSS_ORG, table_name
from finops_platform.lake import month_of
from finops_platform.lib.catalog import Catalog
from finops_platform.lib.engine import EngineSession, QueryEngine
from finops_platform.lib.sql import Identifier, SqlValue

TENANT_MONTHS_TABLE = table_name(COST_DAILY)


@dataclass(frozen=True)
class Reader:
    """Runs dashboard queries in one open session; database (and org) are filled in."""

    session: EngineSession
    params: dict[str, SqlValue]

    def table(self, name: str, **params: SqlValue) -> pa.Table:
        """The exact result of `sql/dashboard/<name>.sql` (money as decimals)."""
        return self.session.query_file(f"dashboard/{name}.sql", {**self.params, **params})

    def frame(self, name: str, **params: SqlValue) -> pd.DataFrame:
        """The result of `sql/dashboard/<name>.sql` as a frame (money in cents)."""
        return to_frame(self.table(name, **params))


@dataclass(frozen=True)
class DashboardData:
    scope: Scope
    engine: QueryEngine
    catalog: Catalog

    def months(self, org_id: str | None) -> list[dt.date]:
        """Billing months loaded for a tenant (its cost_daily) or centrally (cross-org table)."""
        table = TENANT_MONTHS_TABLE if org_id else table_name(CROSS_ORG)
        partitions = self.catalog.list_partitions(self.scope.database(org_id), table)
        return sorted({month_of(p.values) for p in partitions})

    @contextmanager
    def reader(self, org_id: str | None) -> Iterator[Reader]:
        """Queries in a tenant's database, or in the central database for `None`."""
        database = self.scope.database(org_id)
        params: dict[str, SqlValue] = {"database": Identifier(database)}
        if org_id:
            params["org"] = org_id
        with self.engine.session(database) as session:
            yield Reader(session, params)
