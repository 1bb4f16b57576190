"""How Athena reads a table some of whose partitions' files lack columns their readers supply.

A CUR 2.0 month published byte for byte (lib/cur/passthrough.py) holds no lineage columns; its
catalog partition records them (`SuppliedColumns`). The embedded engine adds them as it reads
(`DuckDBEngine._view`), but Athena reads a Glue table as it is, and users query `tb_cur_raw` in
Athena directly. So on Glue such a table is kept as a files table (the partitions) and, under
the table's own name, a view over it that supplies the columns: per passed-through month one
CASE branch a column, a constant, or for a per-file column (`x_source_file`) the delivery folder
plus the file name of Athena's `"$path"` (the copies keep their delivery names), whatever the
number of files. Every other row reads its own column. A branch is taken by the rows of its
month's version only (the partition keys, then the version's prefix of `"$path"`), so a view
that still holds a version's branch after that version was replaced, or already holds the next
version's before it is registered, reads every registered month right.

The view's text is Athena (Trino) SQL; the tests run it, transpiled, on DuckDB over a stand-in
files table with a `"$path"` column and compare it with the embedded engine's rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from finops_platform.lib.catalog.base import CatalogPartition, CatalogTable, SuppliedColumns

# The name of the file a row was read from, out of Athena's `"$path"` (its full S3 URI).
FILE_NAME = """element_at(split("$path", '/'), -1)"""


def presto_type(glue: str) -> str:
    """A Glue (Hive) type as Athena names it in a view's column list: `map<string,string>` ->
    `map(varchar,varchar)`; a Glue `timestamp` reads as `timestamp(3)`."""
    tree = exp.DataType.build(glue, dialect="hive")
    for node in tree.find_all(exp.DataType):
        if node.this == exp.DataType.Type.TIMESTAMP and not node.expressions:
            node.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(3))])
    return tree.sql("trino").lower().replace(", ", ",")


def view_columns(table: CatalogTable) -> dict[str, str]:
    """The view's columns and their Glue types: the table's columns, then its partition keys."""
    return {**table.columns, **table.partition_keys}


def supplied_view_sql(
    table: CatalogTable, files_table: str, partitions: Sequence[CatalogPartition]
) -> str:
    """The view, named as `table`, over `files_table` (with `table`'s columns and partitions):
    each column as the files hold it, but for the partitions whose readers supply it."""
    supplied = [
        (partition, found)
        for partition in partitions
        if (found := partition.supplied_columns()) is not None
    ]
    selected = []
    for name, kind in view_columns(table).items():
        branches = [
            f"WHEN {_is_version(table, partition)} THEN {value}"
            for partition, columns in supplied
            if (value := _supplied_value(columns, name, presto_type(kind))) is not None
        ]
        column = _quoted(name)
        if branches:
            column = f"CASE {' '.join(branches)} ELSE {column} END"
        selected.append(f"CAST({column} AS {presto_type(kind)}) AS {_quoted(name)}")
    source = f"{_quoted(table.database)}.{_quoted(files_table)}"
    return f"SELECT {', '.join(selected)} FROM {source}"


def _supplied_value(columns: SuppliedColumns, name: str, kind: str) -> str | None:
    """The value a partition's readers supply for column `name` (of Athena type `kind`), as
    SQL; None where the files' own column is read. A constant is cast in its branch (Athena
    finds no common type for a text literal and a timestamp column); a constant NULL is left
    to the files table, which reads a column its files lack as NULL."""
    if columns.constants.get(name) is not None:
        return f"CAST({_literal(str(columns.constants[name]))} AS {kind})"
    by_file = columns.by_file.get(name)
    if not by_file:
        return None
    # Copies named as their delivery files, from one folder: one expression for them all.
    folders = {
        uri.removesuffix(file) if uri.endswith("/" + file) else None
        for file, uri in by_file.items()
    }
    if len(folders) == 1 and None not in folders:
        return f"concat({_literal(str(folders.pop()))}, {FILE_NAME})"
    cases = " ".join(f"WHEN {_literal(file)} THEN {_literal(uri)}" for file, uri in by_file.items())
    return f"CASE {FILE_NAME} {cases} END"


def _is_version(table: CatalogTable, partition: CatalogPartition) -> str:
    """A condition true on the rows of `partition`'s version only: its key values (typed as
    the keys, compared first: cheap, and false on every other month's rows), then the files'
    prefix."""
    conditions = []
    for key, value in table.key_values(partition.values).items():
        numeric = table.partition_keys[key] in ("int", "bigint")
        typed = str(int(value)) if numeric else _literal(value)
        conditions.append(f"{_quoted(key)} = {typed}")
    prefix = partition.location.rstrip("/") + "/"
    conditions.append(f'starts_with("$path", {_literal(prefix)})')
    return " AND ".join(conditions)


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql("trino")


def _quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("trino")
