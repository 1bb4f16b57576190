"""The embedded catalog: Glue's databases, tables and partitions as small JSON files.

Layout under `root`: `<database>/<table>/table.json` and one file per partition,
`<database>/<table>/partitions/<k1=v1>/<k2=v2>....json`. One file per partition means two runs
registering different months of one tenant never write the same file; every write is atomic
(temporary file, then rename).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from finops_platform.lib.catalog.base import (
    Catalog,
    CatalogEntryError,
    CatalogPartition,
    CatalogTable,
)

Entry = TypeVar("Entry", bound=BaseModel)


class LocalCatalog(Catalog):
    """Catalog kept in JSON files under `root`."""

    root: str

    def _table_dir(self, database: str, table: str) -> Path:
        return Path(self.root, database, table)

    def ensure_database(self, database: str, dry_run: bool = False) -> str:
        folder = Path(self.root, database)
        if folder.is_dir():
            return "exists"
        if not dry_run:
            folder.mkdir(parents=True, exist_ok=True)
        return "create"

    def upsert_table(self, table: CatalogTable) -> None:
        self.ensure_database(table.database)
        _write_json(self._table_dir(table.database, table.name) / "table.json", table.model_dump())

    def get_table(self, database: str, name: str) -> CatalogTable | None:
        path = self._table_dir(database, name) / "table.json"
        if not path.is_file():
            return None
        return _read_json(path, CatalogTable)

    def delete_table(self, database: str, name: str) -> None:
        folder = self._table_dir(database, name)
        (folder / "table.json").unlink(missing_ok=True)  # first: a half-deleted table is gone
        shutil.rmtree(folder, ignore_errors=True)

    def list_tables(self, database: str) -> list[CatalogTable]:
        return [
            _read_json(path, CatalogTable)
            for path in sorted(Path(self.root, database).glob("*/table.json"))
        ]

    def upsert_partition(self, database: str, table: str, partition: CatalogPartition) -> None:
        definition = self.get_table(database, table)
        if definition is None:
            raise ValueError(f"table {database}.{table} is not in the catalog")
        if not partition.columns:
            partition = partition.model_copy(update={"columns": definition.columns})
        values = definition.key_values(partition.values)
        path, *twins = self._partition_files(definition, values)
        _write_json(path, partition.model_copy(update={"values": values}).model_dump())
        for twin in twins:
            twin.unlink(missing_ok=True)

    def delete_partition(self, database: str, table: str, values: dict[str, str]) -> None:
        definition = self.get_table(database, table)
        if definition is not None:
            for path in self._partition_files(definition, definition.key_values(values)):
                path.unlink(missing_ok=True)

    def _partition_files(self, definition: CatalogTable, values: dict[str, str]) -> list[Path]:
        """Where a partition is filed: by the table's key order, then where earlier versions
        may have filed it too, by its keys sorted (how a partition read back from their JSON
        came). Such a twin would be read as a second copy of the partition."""
        folder = self._table_dir(definition.database, definition.name) / "partitions"
        paths: list[Path] = []
        for ordered in (values, dict(sorted(values.items()))):
            *parents, last = [f"{key}={value}" for key, value in ordered.items()]
            path = folder.joinpath(*parents, f"{last}.json")
            if path not in paths:
                paths.append(path)
        return paths

    def list_partitions(self, database: str, table: str) -> list[CatalogPartition]:
        definition = self.get_table(database, table)
        if definition is None:
            return []
        folder = self._table_dir(database, table) / "partitions"
        partitions = [_read_json(path, CatalogPartition) for path in sorted(folder.rglob("*.json"))]
        # In partition-key order, as Glue gives them (older files have their keys sorted).
        return [
            p.model_copy(update={"values": definition.key_values(p.values)}) for p in partitions
        ]


def _read_json(path: Path, model: type[Entry]) -> Entry:
    """One entry file, or a CatalogEntryError naming it (a file cut short, not JSON, or missing
    fields), rather than pydantic's many-line report that names no file."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        reason = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise CatalogEntryError(str(path), reason) from exc


# A temporary entry file older than this was left by a writer that died between writing and
# renaming it (a write takes milliseconds); the next write in its folder removes it.
STALE_TEMPORARY_SECONDS = 3600


def _write_json(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    stale = time.time() - STALE_TEMPORARY_SECONDS
    for left in path.parent.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):  # another writer removed it first
            if left.stat().st_mtime < stale:
                left.unlink()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(content, out, indent=2)  # in model order: partition keys keep theirs
        os.replace(temporary, path)
    except BaseException:  # e.g. a full disk: the entry keeps its previous content
        Path(temporary).unlink(missing_ok=True)
        raise
