"""The Glue catalog against moto over HTTP: tables, partitions re-registered, the crawler option,
and a table whose readers supply columns kept as a files table plus a view."""

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from finops_platform.lib.catalog import CatalogPartition, CatalogTable
from finops_platform.lib.catalog.base import SuppliedColumns
from finops_platform.lib.catalog.glue import CrawlerError, GlueCatalog
from finops_platform.lib.catalog.supplied_view import supplied_view_sql
from finops_platform_tests.support.fault_proxy import Request, fault_proxy

TABLE = CatalogTable(
    database="custos_a_db",
    name="tb_cur_raw",
    location="s3://lake/custos/cur/org=a/",
    columns={"identity_line_item_id": "string", "resource_tags": "map<string,string>"},
    partition_keys={"org": "string", "year": "int", "month": "int"},
)
VALUES = {"org": "a", "year": "2026", "month": "1"}


@pytest.fixture
def catalog(aws: str) -> GlueCatalog:
    glue = GlueCatalog(region="us-east-1")
    assert glue.ensure_database("custos_a_db") == "create"
    assert glue.ensure_database("custos_a_db") == "exists"
    return glue


def test_tables_are_created_then_updated(catalog: GlueCatalog) -> None:
    catalog.upsert_table(TABLE)
    wider = TABLE.model_copy(update={"columns": {**TABLE.columns, "x_source_file": "string"}})
    catalog.upsert_table(wider)
    assert catalog.get_table("custos_a_db", "tb_cur_raw") == wider
    assert [t.name for t in catalog.list_tables("custos_a_db")] == ["tb_cur_raw"]
    assert catalog.get_table("custos_a_db", "nope") is None
    raw = boto3.client("glue").get_table(DatabaseName="custos_a_db", Name="tb_cur_raw")["Table"]
    assert raw["TableType"] == "EXTERNAL_TABLE"
    assert raw["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith(
        "ParquetHiveSerDe"
    )


def test_a_partition_registered_again_points_at_the_new_version(catalog: GlueCatalog) -> None:
    catalog.upsert_table(TABLE)
    for version in ("v=1", "v=2"):
        location = f"s3://lake/custos/cur/org=a/year=2026/month=1/{version}/"
        catalog.upsert_partition(
            "custos_a_db",
            "tb_cur_raw",
            CatalogPartition(values=VALUES, location=location, parameters={"row_count": "7"}),
        )
    (partition,) = catalog.list_partitions("custos_a_db", "tb_cur_raw")
    assert partition.values == VALUES
    assert partition.location.endswith("/v=2/")
    assert partition.parameters == {"row_count": "7"}
    assert partition.columns == TABLE.columns  # as the table had them at registration


def test_the_crawler_is_provisioned_once_and_a_stuck_crawl_times_out(
    catalog: GlueCatalog,
) -> None:
    role = "arn:aws:iam::123456789012:role/crawler"
    path = "s3://lake/custos/cur/org=a/"
    assert catalog.ensure_crawler("custos_a_crawler", role, "custos_a_db", path) == "create"
    assert catalog.ensure_crawler("custos_a_crawler", role, "custos_a_db", path) == "exists"
    # (moto has no UpdateCrawler, so the "update" path is not exercised here.)
    assert catalog.ensure_crawler("custos_a_crawler", role, "custos_b_db", path, True) == "update"
    # moto's crawler starts but never finishes: the wait reports it instead of hanging.
    with pytest.raises(CrawlerError, match="did not finish within 1 s"):
        catalog.run_crawler("custos_a_crawler", timeout_seconds=1, poll_seconds=0.2)


def supplied(month: int) -> CatalogPartition:
    """A passed-through month: its readers supply its lineage (its files keep their names)."""
    lineage = SuppliedColumns(
        constants={"x_source_format": "cur2", "split_line_item_split_cost": None},
        by_file={"x_source_file": {"a-1.parquet": f"s3://src/d/2026-{month:02}/a-1.parquet"}},
    )
    return CatalogPartition(
        values={**VALUES, "month": str(month)},
        location=f"s3://lake/custos/cur/org=a/year=2026/month={month}/v=1/",
        parameters=lineage.parameters(),
    )


def normalized(month: int) -> CatalogPartition:
    return CatalogPartition(
        values={**VALUES, "month": str(month)},
        location=f"s3://lake/custos/cur/org=a/year=2026/month={month}/v=2/",
        parameters={"row_count": "7"},
    )


LINEAGE = TABLE.model_copy(
    update={"columns": {**TABLE.columns, "x_source_file": "string", "x_source_format": "string"}}
)


def glue_table(name: str) -> dict | None:
    try:
        return boto3.client("glue").get_table(DatabaseName="custos_a_db", Name=name)["Table"]
    except boto3.client("glue").exceptions.EntityNotFoundException:
        return None


def view_definition() -> dict:
    """The Presto view Glue holds under the table's name, decoded."""
    view = glue_table("tb_cur_raw")
    assert view is not None and view["TableType"] == "VIRTUAL_VIEW"
    encoded = view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    return json.loads(base64.b64decode(encoded))


def test_a_month_whose_readers_supply_columns_makes_the_table_a_view(catalog: GlueCatalog) -> None:
    catalog.upsert_table(LINEAGE)
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", normalized(1))
    assert glue_table("tb_cur_raw_files") is None  # nothing supplied: one table, as before

    catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(2))
    # Glue: the partitions on the files table, and under the table's name a view over it.
    files = glue_table("tb_cur_raw_files")
    assert files is not None and files["TableType"] == "EXTERNAL_TABLE"
    got = boto3.client("glue").get_partitions(DatabaseName="custos_a_db", TableName=files["Name"])
    assert sorted(p["Values"][2] for p in got["Partitions"]) == ["1", "2"]
    presto = view_definition()
    entries = catalog.list_partitions("custos_a_db", "tb_cur_raw")
    assert presto["originalSql"] == supplied_view_sql(LINEAGE, "tb_cur_raw_files", entries)
    assert presto["schema"] == "custos_a_db"
    assert presto["columns"][-3:] == [
        {"name": "org", "type": "varchar"},
        {"name": "year", "type": "integer"},
        {"name": "month", "type": "integer"},
    ]
    assert {"name": "resource_tags", "type": "map(varchar,varchar)"} in presto["columns"]
    sql = presto["originalSql"]
    version = "starts_with(\"$path\", 's3://lake/custos/cur/org=a/year=2026/month=2/v=1/')"
    assert f'"org" = \'a\' AND "year" = 2026 AND "month" = 2 AND {version}' in sql
    assert f"{version} THEN CAST('cur2' AS varchar)" in sql
    assert "THEN concat('s3://src/d/2026-02/', element_at(split(\"$path\", '/'), -1))" in sql
    assert 'month" = 1' not in sql  # a normalized month reads its own columns

    # The catalog still shows one table with its partitions, as the pipeline registered them.
    assert catalog.get_table("custos_a_db", "tb_cur_raw") == LINEAGE
    assert [t.name for t in catalog.list_tables("custos_a_db")] == ["tb_cur_raw"]
    assert {p.values["month"]: p for p in entries}["2"] == supplied(2).model_copy(
        update={"columns": LINEAGE.columns}
    )

    # The month normalized again: no branch left; dropped: the view follows.
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", normalized(2))
    assert "CASE" not in view_definition()["originalSql"]
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(3))
    catalog.delete_partition("custos_a_db", "tb_cur_raw", supplied(3).values)
    assert "CASE" not in view_definition()["originalSql"]
    assert len(catalog.list_partitions("custos_a_db", "tb_cur_raw")) == 2

    catalog.delete_table("custos_a_db", "tb_cur_raw")
    assert glue_table("tb_cur_raw") is None and glue_table("tb_cur_raw_files") is None


def test_a_copy_killed_halfway_leaves_the_table_the_record(
    catalog: GlueCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.upsert_table(LINEAGE)
    for month in (1, 2, 3):
        catalog.upsert_partition("custos_a_db", "tb_cur_raw", normalized(month))
    put_partition = GlueCatalog._put_partition
    copied: list[str] = []

    def killed_after_one(self: GlueCatalog, table: CatalogTable, physical: str, p: object) -> None:
        if physical == "tb_cur_raw_files" and copied:
            raise KeyboardInterrupt  # the power cut, mid-copy
        copied.append(physical)
        put_partition(self, table, physical, p)

    monkeypatch.setattr(GlueCatalog, "_put_partition", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(4))
    monkeypatch.setattr(GlueCatalog, "_put_partition", put_partition)
    # The table is untouched and still the one record; the partial copy is not read.
    assert glue_table("tb_cur_raw")["TableType"] == "EXTERNAL_TABLE"
    assert len(catalog.list_partitions("custos_a_db", "tb_cur_raw")) == 3
    assert [t.name for t in catalog.list_tables("custos_a_db")] == ["tb_cur_raw"]

    # A month removed meanwhile (copied before the kill), then the next registration copies
    # again, without it, and finishes; the table became the view in place.
    catalog.delete_partition("custos_a_db", "tb_cur_raw", normalized(1).values)
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(4))
    months = [p.values["month"] for p in catalog.list_partitions("custos_a_db", "tb_cur_raw")]
    assert sorted(months) == ["2", "3", "4"]
    assert 'month" = 4 AND starts_with' in view_definition()["originalSql"]


def test_a_registration_killed_after_the_view_keeps_every_month_read_right(
    catalog: GlueCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog.upsert_table(LINEAGE)
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(2))
    newer = supplied(2).model_copy(update={"location": supplied(2).location.replace("v=1", "v=3")})
    put_partition = GlueCatalog._put_partition

    def power_cut(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(GlueCatalog, "_put_partition", power_cut)
    with pytest.raises(KeyboardInterrupt):
        catalog.upsert_partition("custos_a_db", "tb_cur_raw", newer)
    monkeypatch.setattr(GlueCatalog, "_put_partition", put_partition)
    # The view already reads the new version's rows right, and still the registered one's.
    (registered,) = catalog.list_partitions("custos_a_db", "tb_cur_raw")
    assert registered.location == supplied(2).location
    sql = view_definition()["originalSql"]
    assert f"'{supplied(2).location}')" in sql and f"'{newer.location}')" in sql
    # Registered: the view forgets the old version.
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", newer)
    sql = view_definition()["originalSql"]
    assert f"'{supplied(2).location}')" not in sql and f"'{newer.location}')" in sql


def test_months_registering_at_once_all_reach_the_view(catalog: GlueCatalog) -> None:
    catalog.upsert_table(LINEAGE)
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(1))
    months = range(2, 8)
    with ThreadPoolExecutor(max_workers=len(months)) as pool:
        list(
            pool.map(
                lambda m: GlueCatalog(region="us-east-1").upsert_partition(
                    "custos_a_db", "tb_cur_raw", supplied(m)
                ),
                months,
            )
        )
    sql = view_definition()["originalSql"]
    assert [m for m in range(1, 8) if f'"month" = {m} AND' in sql] == list(range(1, 8))


def test_a_table_glue_will_not_turn_into_a_view_is_replaced_by_one(
    catalog: GlueCatalog, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should Glue refuse to change a table's type in place, the table is dropped and the view
    created; the files table holds every partition throughout."""
    catalog.upsert_table(LINEAGE)
    catalog.upsert_partition("custos_a_db", "tb_cur_raw", normalized(1))
    seen: list[Request] = []

    def refuse_type_change(request: Request, status: int, body: bytes) -> tuple[int, bytes]:
        seen.append(request)
        turning = not any(r.target == "AWSGlue.DeleteTable" for r in seen)  # a view yet?
        if request.target == "AWSGlue.UpdateTable" and b"VIRTUAL_VIEW" in request.body and turning:
            refused = {"__type": "InvalidInputException", "message": "cannot change the type"}
            return 400, json.dumps(refused).encode()
        return status, body

    with fault_proxy(aws, refuse_type_change) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy)
        catalog.upsert_partition("custos_a_db", "tb_cur_raw", supplied(2))
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    deleted = [json.loads(r.body)["Name"] for r in seen if r.target == "AWSGlue.DeleteTable"]
    assert deleted == ["tb_cur_raw"]
    assert 'month" = 2 AND' in view_definition()["originalSql"]
    months = [p.values["month"] for p in catalog.list_partitions("custos_a_db", "tb_cur_raw")]
    assert sorted(months) == ["1", "2"]
