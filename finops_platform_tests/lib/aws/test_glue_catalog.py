"""The Glue catalog against moto over HTTP: tables, partitions re-registered, the crawler option."""

import boto3
import pytest

from finops_platform.lib.catalog import CatalogPartition, CatalogTable
from finops_platform.lib.catalog.glue import CrawlerError, GlueCatalog

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
