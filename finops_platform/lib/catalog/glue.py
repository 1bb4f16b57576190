"""The catalog on AWS Glue: databases, external Parquet tables and their partitions.

Partitions are registered through the Glue API (batch_create_partition, falling back to
update_partition for one that already exists), which is immediate and costs nothing; the
original design's Glue crawler remains an option (`run_crawler`).
"""

from __future__ import annotations

import base64
import json
import re
import time
from contextlib import suppress
from typing import Any

from botocore.exceptions import ClientError

from finops_platform.lake import files_table
from finops_platform.lib.aws import aws_client
from finops_platform.lib.catalog.base import Catalog, CatalogPartition, CatalogTable
from finops_platform.lib.catalog.supplied_view import presto_type, supplied_view_sql, view_columns

PARQUET_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}

# A table over exactly the Parquet files listed, one URI a line, in the text objects under its
# location (Athena's symlink tables): a delivery is read where it lies, without a copy.
FILE_LIST_STORAGE = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": PARQUET_STORAGE["SerdeInfo"],
}


# The same over gzip CSV files (a CSV delivery): Athena's OpenCSVSerde hands every field over as
# text, which the reader types (csv_source.typed_text_select); the header row of each file is
# skipped. Its escape character is one no CUR text holds (a private-use code point): OpenCSVSerde
# drops the escape character where it precedes no quote, and its default, the backslash, would
# drop every backslash of the data. AWS's CSV quotes as RFC 4180 does (a quote doubled), which
# the serde reads whatever the escape character.
CSV_FILE_LIST_STORAGE = {
    "InputFormat": FILE_LIST_STORAGE["InputFormat"],
    "OutputFormat": FILE_LIST_STORAGE["OutputFormat"],
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        "Parameters": {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\ue000"},
    },
}


# The parameter of a files table naming the view over it that supplies its missing columns.
VIEW_OF = "finops_supplied_view"
# How often a view is rewritten while registrations of other months change its partitions.
_VIEW_ATTEMPTS = 5


class CrawlerError(RuntimeError):
    """A Glue crawler that failed or did not finish in time."""


def _storage(columns: dict[str, str], location: str) -> dict[str, Any]:
    listed = [{"Name": name, "Type": kind} for name, kind in columns.items()]
    return {"Columns": listed, "Location": location, **PARQUET_STORAGE}


def _table_input(table: CatalogTable) -> dict[str, Any]:
    return {
        "Name": table.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in table.partition_keys.items()],
        "StorageDescriptor": _storage(table.columns, table.location),
    }


class GlueCatalog(Catalog):
    """Catalog in AWS Glue; endpoint and credentials from the standard AWS environment."""

    region: str

    def _glue(self) -> Any:
        return aws_client("glue", self.region)

    def ensure_database(self, database: str, dry_run: bool = False) -> str:
        glue = self._glue()
        try:
            glue.get_database(Name=database)
            return "exists"
        except glue.exceptions.EntityNotFoundException:
            pass
        if not dry_run:
            try:
                glue.create_database(DatabaseInput={"Name": database})
            except glue.exceptions.AlreadyExistsException:
                return "exists"  # created meanwhile by a concurrent run
        return "create"

    def upsert_table(self, table: CatalogTable) -> None:
        _, physical = self._resolve(table.database, table.name)
        self._put_table(table, physical)
        if physical != table.name:
            self._refresh_view(table.database, table.name)

    def create_file_list_table(self, table: CatalogTable, csv: bool = False) -> None:
        """Register `table` over the Parquet files (`csv`: gzip CSV files, every column text)
        listed in the objects under its location (one URI a line), whatever prefix they lie
        in; Athena's `"$path"` names each row's file."""
        table_input = _table_input(table)
        table_input["StorageDescriptor"].update(CSV_FILE_LIST_STORAGE if csv else FILE_LIST_STORAGE)
        table_input["Parameters"] = {"EXTERNAL": "TRUE"}
        if csv:
            table_input["Parameters"] |= {"classification": "csv", "skip.header.line.count": "1"}
        self._glue().create_table(DatabaseName=table.database, TableInput=table_input)

    def delete_table(self, database: str, name: str) -> None:
        glue = self._glue()
        files = self._get(database, files_table(name))
        for physical in [name, *([files_table(name)] if files and _view_of(files) == name else [])]:
            with suppress(glue.exceptions.EntityNotFoundException):
                glue.delete_table(DatabaseName=database, Name=physical)

    def get_table(self, database: str, name: str) -> CatalogTable | None:
        return self._resolve(database, name)[0]

    def list_tables(self, database: str) -> list[CatalogTable]:
        glue = self._glue()
        try:
            pages = list(glue.get_paginator("get_tables").paginate(DatabaseName=database))
        except glue.exceptions.EntityNotFoundException:
            return []
        found = {t["Name"]: t for page in pages for t in page["TableList"]}
        # A table kept as a files table plus a view is listed once, as the table it stands for.
        listed = []
        for name, table in found.items():
            base = _view_of(table)
            if base is None and not _backed(found.get(files_table(name)), table):
                listed.append(_from_glue(database, table, name))
            elif base is None:
                listed.append(_from_glue(database, found[files_table(name)], name))
            elif base not in found:  # the view dropped (by hand, or a delete_table killed)
                listed.append(_from_glue(database, table, base))
        return listed

    def upsert_partition(self, database: str, table: str, partition: CatalogPartition) -> None:
        definition, physical = self._resolve(database, table)
        if definition is None:
            raise ValueError(f"table {database}.{table} is not in the catalog")
        if physical == table and partition.supplied_columns() is None:
            self._put_partition(definition, physical, partition)
            return
        if physical == table:
            physical = self._split(definition)
        # The view first learns the new version's branch (it reads no row of a version not
        # registered yet), then the partition points at the version, then the view forgets
        # the old one: a run killed between any two leaves every registered month read right.
        self._refresh_view(database, table, also=partition)
        self._put_partition(definition, physical, partition)
        self._refresh_view(database, table)

    def delete_partition(self, database: str, table: str, values: dict[str, str]) -> None:
        definition, physical = self._resolve(database, table)
        if definition is None:
            return
        glue = self._glue()
        with suppress(glue.exceptions.EntityNotFoundException):
            glue.delete_partition(
                DatabaseName=database,
                TableName=physical,
                PartitionValues=list(definition.key_values(values).values()),
            )
        if physical != table:
            self._refresh_view(database, table)

    def list_partitions(self, database: str, table: str) -> list[CatalogPartition]:
        definition, physical = self._resolve(database, table)
        if definition is None:
            return []
        return self._partitions(definition, physical)

    def _get(self, database: str, name: str) -> dict[str, Any] | None:
        glue = self._glue()
        try:
            return glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return None

    def _resolve(self, database: str, name: str) -> tuple[CatalogTable | None, str]:
        """Table `name` as the catalog shows it (None if absent), and the Glue table holding
        its partitions: its files table once its readers supply columns (supplied_view.py)
        and the table became the view (or is gone), else the table itself (a files table
        beside a table still in place is a copy being made)."""
        files = self._get(database, files_table(name))
        table = self._get(database, name)
        if files is not None and _backed(files, table):
            return _from_glue(database, files, name), files_table(name)
        return (None if table is None else _from_glue(database, table, name)), name

    def _put_table(self, table: CatalogTable, physical: str) -> None:
        table_input = _table_input(table) | {"Name": physical}
        if physical != table.name:
            table_input["Parameters"] = table_input["Parameters"] | {VIEW_OF: table.name}
        self._create_or_update(table.database, table_input)

    def _create_or_update(self, database: str, table_input: dict[str, Any]) -> None:
        glue = self._glue()
        try:
            glue.create_table(DatabaseName=database, TableInput=table_input)
        except glue.exceptions.AlreadyExistsException:
            glue.update_table(DatabaseName=database, TableInput=table_input)

    def _put_partition(
        self, definition: CatalogTable, physical: str, partition: CatalogPartition
    ) -> None:
        database = definition.database
        values = list(definition.key_values(partition.values).values())
        partition_input = {
            "Values": values,
            "StorageDescriptor": _storage(
                partition.columns or definition.columns, partition.location
            ),
            "Parameters": partition.parameters,
        }
        glue = self._glue()
        result = glue.batch_create_partition(
            DatabaseName=database, TableName=physical, PartitionInputList=[partition_input]
        )
        for error in result.get("Errors", []):
            if error["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException":
                raise RuntimeError(
                    f"Glue refused partition {values} of {database}.{definition.name}: "
                    f"{error['ErrorDetail']['ErrorMessage']}"
                )
            glue.update_partition(
                DatabaseName=database,
                TableName=physical,
                PartitionValueList=values,
                PartitionInput=partition_input,
            )

    def _partitions(self, definition: CatalogTable, physical: str) -> list[CatalogPartition]:
        pages = (
            self._glue()
            .get_paginator("get_partitions")
            .paginate(DatabaseName=definition.database, TableName=physical)
        )
        keys = list(definition.partition_keys)
        return [
            CatalogPartition(
                values=dict(zip(keys, p["Values"], strict=True)),
                location=p["StorageDescriptor"]["Location"],
                parameters=p.get("Parameters", {}),
                columns={c["Name"]: c["Type"] for c in p["StorageDescriptor"].get("Columns", [])},
            )
            for page in pages
            for p in page["Partitions"]
        ]

    def _split(self, table: CatalogTable) -> str:
        """Keep `table` as a files table plus a view from now on (its first partition whose
        readers supply columns): the files table is defined with exactly the table's
        partitions; the caller's view then replaces the table in one update, so Athena finds
        `table` at every moment (the table's own partition entries stay behind the view,
        never read). Until the view is written the table is the one record (`_resolve`): a
        run killed before that leaves it as it was, and the next registration copies again.
        Writers of one table's partitions take turns (the tb_cur_raw asset holds the tenant's
        lock), as one registering meanwhile could be missed by the copy."""
        physical = files_table(table.name)
        self._put_table(table, physical)
        keep = self._partitions(table, table.name)
        for partition in keep:
            self._put_partition(table, physical, partition)
        kept = [list(table.key_values(p.values).values()) for p in keep]
        stale = [
            p for p in self._partitions(table, physical) if list(p.values.values()) not in kept
        ]
        for partition in stale:  # left by a copy whose run was killed, removed since
            self._glue().delete_partition(
                DatabaseName=table.database,
                TableName=physical,
                PartitionValues=list(partition.values.values()),
            )
        return physical

    def _refresh_view(self, database: str, name: str, also: CatalogPartition | None = None) -> None:
        """Write the view `name` over its files table from the partitions registered now (and
        `also`, a version about to be). Two months registering at once may each write a view
        missing the other's partition, so each writer reads the table and its partitions again
        after writing and writes once more if they changed: the last view written is then one
        its writer saw complete after writing."""
        physical = files_table(name)

        def current() -> tuple[CatalogTable, str]:
            found = self._get(database, physical)
            if found is None:
                raise ValueError(f"table {database}.{name} is not in the catalog")
            table = _from_glue(database, found, name)
            partitions = self._partitions(table, physical) + ([also] if also else [])
            return table, supplied_view_sql(table, physical, partitions)

        table, sql = current()
        for _ in range(_VIEW_ATTEMPTS):
            self._put_view(table, sql)
            table, now = current()
            if now == sql:
                return
            sql = now
        raise RuntimeError(
            f"the view {database}.{name} kept changing while it was written "
            f"({_VIEW_ATTEMPTS} times); rerun the registration"
        )

    def _put_view(self, table: CatalogTable, sql: str) -> None:
        """A view as Athena's own CREATE VIEW stores it in Glue ("Presto View" format)."""
        columns = view_columns(table)
        presto = {
            "originalSql": sql,
            "catalog": "awsdatacatalog",
            "schema": table.database,
            "columns": [{"name": n, "type": presto_type(t)} for n, t in columns.items()],
        }
        encoded = base64.b64encode(json.dumps(presto).encode()).decode()
        table_input = {
            "Name": table.name,
            "TableType": "VIRTUAL_VIEW",
            "PartitionKeys": [],  # a view has none, the table it replaces had
            "Parameters": {"presto_view": "true", "comment": "Presto View"},
            "ViewOriginalText": f"/* Presto View: {encoded} */",
            "ViewExpandedText": "/* Presto View */",
            "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in columns.items()]},
        }
        try:
            self._create_or_update(table.database, table_input)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "InvalidInputException":
                raise
            # Glue refusing to turn the table into a view in place: the table is dropped and the
            # view created, Athena finding no `table` for that moment (the files table is the
            # record already: `_resolve`).
            glue = self._glue()
            glue.delete_table(DatabaseName=table.database, Name=table.name)
            glue.create_table(DatabaseName=table.database, TableInput=table_input)

    def ensure_crawler(
        self, name: str, role_arn: str, database: str, s3_path: str, dry_run: bool = False
    ) -> str:
        """A crawler over `s3_path` into `database`, created or brought up to date."""
        glue = self._glue()
        wanted = {
            "Role": role_arn,
            "DatabaseName": database,
            "Targets": {"S3Targets": [{"Path": s3_path}]},
        }
        try:
            current = glue.get_crawler(Name=name)["Crawler"]
        except glue.exceptions.EntityNotFoundException:
            if not dry_run:
                glue.create_crawler(Name=name, **wanted)
            return "create"
        same = (
            current.get("Role") == role_arn
            and current.get("DatabaseName") == database
            and [t["Path"] for t in current["Targets"].get("S3Targets", [])] == [s3_path]
        )
        if same:
            return "exists"
        if not dry_run:
            glue.update_crawler(Name=name, **wanted)
        return "update"

    def run_crawler(self, name: str, timeout_seconds: float, poll_seconds: float = 5.0) -> str:
        """Start the crawler, wait for it, and return its last crawl's status."""
        glue = self._glue()
        # Already running (started by someone else): wait for that crawl instead.
        with suppress(glue.exceptions.CrawlerRunningException):
            glue.start_crawler(Name=name)
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            crawler = glue.get_crawler(Name=name)["Crawler"]
            if crawler["State"] == "READY" and "LastCrawl" in crawler:
                last = crawler["LastCrawl"]
                if last["Status"] != "SUCCEEDED":
                    raise CrawlerError(
                        f"crawler {name}: {last['Status']}: {last.get('ErrorMessage', '')}"
                    )
                return last["Status"]
            time.sleep(poll_seconds)
        raise CrawlerError(f"crawler {name} did not finish within {timeout_seconds:g} s")


def _view_of(table: dict[str, Any]) -> str | None:
    """The view a files table backs (its parameter `VIEW_OF`); None for any other table."""
    return table.get("Parameters", {}).get(VIEW_OF)


def _backed(files: dict[str, Any] | None, table: dict[str, Any] | None) -> bool:
    """Does the files table `files` hold the partitions of `table` (a view over it, or gone)?"""
    if files is None or _view_of(files) is None:
        return False
    return table is None or table.get("TableType") == "VIRTUAL_VIEW"


def _from_glue(database: str, table: dict[str, Any], name: str) -> CatalogTable:
    """A Glue table as the catalog table `name` (a files table stands for its view's name)."""
    storage = table["StorageDescriptor"]
    return CatalogTable(
        database=database,
        name=name,
        location=storage.get("Location", ""),  # a view has none
        columns={c["Name"]: c["Type"] for c in storage["Columns"]},
        partition_keys={k["Name"]: k["Type"] for k in table.get("PartitionKeys", [])},
        view_sql=_view_sql(table),
    )


_PRESTO_VIEW = re.compile(r"/\* Presto View: (?P<encoded>[A-Za-z0-9+/=]+) \*/")


def _view_sql(table: dict[str, Any]) -> str | None:
    """The query of a view Athena created (`CREATE VIEW` stores it as base64-encoded JSON in the
    table's original text, "Presto View" format); None for a table."""
    if table.get("TableType") != "VIRTUAL_VIEW":
        return None
    found = _PRESTO_VIEW.fullmatch(table.get("ViewOriginalText", "").strip())
    if found is None:
        return table.get("ViewOriginalText", "")
    return json.loads(base64.b64decode(found["encoded"]))["originalSql"]
