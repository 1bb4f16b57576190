"""The embedded catalog: Glue's databases, tables and partitions as small JSON files.

Layout under `root`: `<database>/<table>/table.json` and one file per partition,
`<database>/<table>/partitions/<k1=v1>/<k2=v2>....json`. One file per partition means two runs
registering different months of one tenant never write the same file; every write is atomic
(temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from finops_platform.lib.catalog.base import Catalog, CatalogPartition, CatalogTable


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
        return CatalogTable.model_validate_json(path.read_text(encoding="utf-8"))

    def list_tables(self, database: str) -> list[CatalogTable]:
        return [
            CatalogTable.model_validate_json(path.read_text(encoding="utf-8"))
            for path in sorted(Path(self.root, database).glob("*/table.json"))
        ]

    def upsert_partition(self, database: str, table: str, partition: CatalogPartition) -> None:
        definition = self.get_table(database, table)
        if definition is None:
            raise ValueError(f"table {database}.{table} is not in the catalog")
        if not partition.columns:
            partition = partition.model_copy(update={"columns": definition.columns})
        values = definition.key_values(partition.values)
        parts = [f"{key}={value}" for key, value in values.items()]
        path = self._table_dir(database, table).joinpath("partitions", *parts)
        path = path.with_name(path.name + ".json")
        _write_json(path, partition.model_copy(update={"values": values}).model_dump())
        # Earlier versions filed a partition by its values' order, which could differ from the
        # keys' order: such a twin would be read as a second copy of the partition.
        self._unlink_partition(database, table, values, keep=path)

    def delete_partition(self, database: str, table: str, values: dict[str, str]) -> None:
        self._unlink_partition(database, table, values)

    def _unlink_partition(
        self, database: str, table: str, values: dict[str, str], keep: Path | None = None
    ) -> None:
        for path, stored in self._stored_partitions(database, table):
            if path != keep and stored.values == values:
                path.unlink()

    def list_partitions(self, database: str, table: str) -> list[CatalogPartition]:
        definition = self.get_table(database, table)
        if definition is None:
            return []
        # In partition-key order, as Glue gives them (older files have their keys sorted).
        return [
            stored.model_copy(update={"values": definition.key_values(stored.values)})
            for _, stored in self._stored_partitions(database, table)
        ]

    def _stored_partitions(self, database: str, table: str) -> list[tuple[Path, CatalogPartition]]:
        folder = self._table_dir(database, table) / "partitions"
        return [
            (path, CatalogPartition.model_validate_json(path.read_text(encoding="utf-8")))
            for path in sorted(folder.rglob("*.json"))
        ]


def _write_json(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(content, out, indent=2)  # in model order: partition keys keep theirs
    os.replace(temporary, path)
