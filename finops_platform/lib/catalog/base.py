"""What the pipeline needs from a catalog: Glue's model of tables and partitions."""

from __future__ import annotations

import json

import dagster as dg
from pydantic import BaseModel, ConfigDict


class CatalogEntryError(ValueError):
    """A catalog entry (a table's or a partition's definition) that cannot be read, e.g. a file
    cut short by a crash or a full disk. It names the entry so one broken partition fails that
    partition's readers with one clear line, not every tenant; the next run of the partition
    writes the entry anew."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(
            f"catalog entry {entry} is unreadable ({reason}); rerun that partition "
            "(`finops run`) to rebuild it, or delete the entry"
        )
        self.entry = entry


class CatalogTable(BaseModel):
    """An external Parquet table: its columns (name -> engine type) and partition keys; or a
    view (`view_sql`), which has columns but no location, partition keys or partitions."""

    model_config = ConfigDict(frozen=True)

    database: str
    name: str
    location: str
    columns: dict[str, str]
    partition_keys: dict[str, str]
    # A view's query, in Athena SQL over the tables of its database (names qualified by it).
    view_sql: str | None = None

    @property
    def is_view(self) -> bool:
        return self.view_sql is not None

    def key_values(self, values: dict[str, str]) -> dict[str, str]:
        """A partition's `values` in this table's partition-key order, whatever their order
        (a partition read back from older JSON files has its keys sorted)."""
        if set(values) != set(self.partition_keys):
            raise ValueError(
                f"partition {values} of {self.database}.{self.name} does not have the table's "
                f"partition keys {list(self.partition_keys)}"
            )
        return {key: values[key] for key in self.partition_keys}


class CatalogPartition(BaseModel):
    """One registered partition: its key values in partition-key order, its location and the
    columns its files have. As Glue does, a catalog registers a partition given no columns
    with the table's columns of that moment, so a table whose columns changed later can tell
    its old partitions from the new ones."""

    model_config = ConfigDict(frozen=True)

    values: dict[str, str]
    location: str
    parameters: dict[str, str] = {}
    columns: dict[str, str] = {}

    def published_files(self) -> dict[str, int] | None:
        """The files (name under `location` -> size in bytes) the pipeline published for this
        version, recorded with the registration so that readers read exactly those and a file
        that appears there out of band is never summed. None for an entry registered before
        the list was recorded (or by a writer that does not record it): readers then fall
        back to every Parquet file under the location."""
        recorded = self.parameters.get(PUBLISHED_FILES)
        return None if recorded is None else json.loads(recorded)

    def supplied_columns(self) -> SuppliedColumns | None:
        """The columns this partition's files lack and its readers supply (`SuppliedColumns`);
        None when the files hold every column themselves."""
        recorded = self.parameters.get(SUPPLIED_COLUMNS)
        return None if recorded is None else SuppliedColumns.model_validate_json(recorded)


class SuppliedColumns(BaseModel):
    """Columns of a partition that its files do not hold and the read definition supplies: a
    CUR 2.0 delivery published byte for byte (lib/cur/passthrough.py) carries no lineage, so
    readers add it from here. `constants` are the same on every row (value as text, None for
    NULL, cast to the table's column type); `by_file` map each published file's name to the
    row value (e.g. the delivery file it is a copy of)."""

    model_config = ConfigDict(frozen=True)

    constants: dict[str, str | None] = {}
    by_file: dict[str, dict[str, str]] = {}

    def parameters(self) -> dict[str, str]:
        """The partition parameter recording them (Glue parameters are strings: JSON)."""
        return {SUPPLIED_COLUMNS: self.model_dump_json()}


PUBLISHED_FILES = "published_files"
SUPPLIED_COLUMNS = "supplied_columns"
# How raw_cur wrote the partition's files: "pass-through" or "normalized" (lib/cur/passthrough.py).
INGEST_MODE = "ingest_mode"


def published_files_parameter(files: dict[str, int]) -> dict[str, str]:
    """`CatalogPartition.parameters` recording a version's published files (Glue parameters
    are strings, so the list is JSON)."""
    return {PUBLISHED_FILES: json.dumps(dict(sorted(files.items())), separators=(",", ":"))}


class Catalog(dg.ConfigurableResource):
    """Base of the catalog resources; assets only call these methods."""

    def ensure_database(self, database: str, dry_run: bool = False) -> str:
        """Create the database unless it exists; returns "create" or "exists"."""
        raise NotImplementedError

    def upsert_table(self, table: CatalogTable) -> None:
        """Create the table, or update its definition (columns, location) in place."""
        raise NotImplementedError

    def get_table(self, database: str, name: str) -> CatalogTable | None:
        raise NotImplementedError

    def delete_table(self, database: str, name: str) -> None:
        """Remove a table or view and its partitions' registrations (the data is not
        touched); a missing one is no error."""
        raise NotImplementedError

    def list_tables(self, database: str) -> list[CatalogTable]:
        raise NotImplementedError

    def upsert_partition(self, database: str, table: str, partition: CatalogPartition) -> None:
        """Register a partition, replacing any earlier registration of the same values."""
        raise NotImplementedError

    def delete_partition(self, database: str, table: str, values: dict[str, str]) -> None:
        """Unregister the partition with these key values, if it is registered."""
        raise NotImplementedError

    def list_partitions(self, database: str, table: str) -> list[CatalogPartition]:
        raise NotImplementedError
