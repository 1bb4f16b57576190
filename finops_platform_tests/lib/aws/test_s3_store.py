"""The S3 object store against moto over HTTP: listing, versions, and nothing lost on a crash."""

import datetime as dt
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.lib.store.s3 import S3ObjectStore

MONTH = "s3://lake/custos/cur/org=a/year=2026/month=1/"


@pytest.fixture
def store(aws: str) -> S3ObjectStore:
    boto3.client("s3").create_bucket(Bucket="lake")
    return S3ObjectStore(region="us-east-1")


def stage(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"x": list(range(rows))}), folder / "part-0.parquet")
    return folder


def test_listing_reading_and_local_copies(store: S3ObjectStore) -> None:
    s3 = boto3.client("s3")
    for key in ("src/a/1.parquet", "src/a/_tmp/2.parquet", "src/b/.hidden", "src/b/3.json"):
        s3.put_object(Bucket="lake", Key=key, Body=key.encode())
    listed = store.list_objects("s3://lake/src/")
    assert [o.uri for o in listed] == ["s3://lake/src/a/1.parquet", "s3://lake/src/b/3.json"]
    assert all(o.etag and o.size for o in listed)
    assert store.read_bytes("s3://lake/src/b/3.json") == b"src/b/3.json"
    with store.local_copies([o.uri for o in listed]) as paths:
        assert [p.read_bytes() for p in paths] == [b"src/a/1.parquet", b"src/b/3.json"]


def test_publish_then_retire_keeps_exactly_the_registered_version(
    store: S3ObjectStore, tmp_path: Path
) -> None:
    first = store.publish(stage(tmp_path / "v1", 3), MONTH)
    assert store.current_version(MONTH) == first
    store.retire(MONTH, keep=first)
    second = store.publish(stage(tmp_path / "v2", 5), MONTH)
    assert second != first and store.current_version(MONTH) == second
    # Until the catalog switches and retires, the registered version stays readable.
    assert store.parquet_rows(first) == 3
    store.retire(MONTH, keep=second)
    assert store.parquet_rows(second) == 5
    assert {o.uri.rsplit("/", 2)[-2] for o in store.list_objects(MONTH)} == {
        second.rstrip("/").rsplit("/", 1)[-1]
    }


def test_an_unfinished_version_is_never_current(store: S3ObjectStore, tmp_path: Path) -> None:
    good = store.publish(stage(tmp_path / "v1", 3), MONTH)
    # A process killed mid-upload leaves files but no _SUCCESS marker.
    dead = f"{MONTH}v={dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-dead/"
    boto3.client("s3").put_object(Bucket="lake", Key=dead[len("s3://lake/") :] + "part-0.parquet")
    assert store.current_version(MONTH) == good
    # Newer than the kept version, it could as well be a run still uploading: it stays until
    # the month's next publish retires it.
    store.retire(MONTH, keep=good)
    assert store.list_objects(dead) and store.parquet_rows(good) == 3
    newest = store.publish(stage(tmp_path / "v2", 4), MONTH)
    store.retire(MONTH, keep=newest)
    assert store.parquet_rows(MONTH) == 4


def test_retiring_leaves_a_version_published_later_by_another_run(
    store: S3ObjectStore, tmp_path: Path
) -> None:
    # Two runs of one month: A publishes, then B; A retires after B published and must not
    # delete B's version, which B is about to register.
    first = store.publish(stage(tmp_path / "a", 3), MONTH)
    second = store.publish(stage(tmp_path / "b", 5), MONTH)
    store.retire(MONTH, keep=first)
    assert store.parquet_rows(first) == 3 and store.parquet_rows(second) == 5
    store.retire(MONTH, keep=second)
    assert store.parquet_rows(MONTH) == 5


def test_discarding_a_version_leaves_the_previous_one(store: S3ObjectStore, tmp_path: Path) -> None:
    first = store.publish(stage(tmp_path / "a", 3), MONTH)
    failed = store.publish(stage(tmp_path / "b", 5), MONTH)
    store.discard(MONTH, failed)
    assert store.list_objects(failed) == [] and store.parquet_rows(MONTH) == 3
    assert store.parquet_rows(first) == 3


def test_a_parquet_footer_is_read_from_the_end_of_the_object(
    store: S3ObjectStore, tmp_path: Path
) -> None:
    """The footer as pyarrow reads it from the whole file: same schema and row groups, from
    the object's end only; an object that is not Parquet (or too short) is named."""
    table = pa.table({"cost": [1.5, 2.5, None] * 1000, "tag": ["a", "b", ""] * 1000})
    pq.write_table(table, tmp_path / "part.parquet", row_group_size=1000)
    boto3.client("s3").upload_file(str(tmp_path / "part.parquet"), "lake", "src/part.parquet")
    for key, body in (("src/notes.txt", b"not a parquet file at all"), ("src/x", b"PAR1")):
        boto3.client("s3").put_object(Bucket="lake", Key=key, Body=body)
    objects = {o.uri.rsplit("/", 1)[1]: o for o in store.list_objects("s3://lake/src/")}

    footer = store.parquet_footer(objects["part.parquet"])
    local = pq.read_metadata(tmp_path / "part.parquet")
    assert footer.schema.to_arrow_schema() == local.schema.to_arrow_schema()
    assert (footer.num_rows, footer.num_row_groups) == (3000, 3) == (local.num_rows, 3)
    for name in ("notes.txt", "x"):
        with pytest.raises(OSError, match=f"s3://lake/src/{name}"):
            store.parquet_footer(objects[name])
