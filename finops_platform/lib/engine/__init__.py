"""The query engine seam: DuckDB in-process (embedded) or Athena (AWS)."""

from finops_platform.lib.engine.base import EngineSession, QueryEngine
from finops_platform.lib.engine.duckdb import DuckDBEngine

__all__ = ["DuckDBEngine", "EngineSession", "QueryEngine"]
