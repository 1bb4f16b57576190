"""The local object store: S3 URIs on disk, and month replacement that never loses a version."""

import os
import threading
from pathlib import Path

import pytest

from finops_platform.lib.store import LocalObjectStore

MONTH = "s3://lake/custos/cur/org=a/year=2026/month=1/"


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def contents(store: LocalObjectStore, uri: str) -> dict[str, str]:
    return {
        o.uri.rsplit("/", 1)[1]: store.read_bytes(o.uri).decode() for o in store.list_objects(uri)
    }


def test_s3_uris_map_into_the_root_and_plain_paths_stay(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path / "buckets"))
    assert store.local_path("s3://bucket/a/b.parquet") == tmp_path / "buckets/bucket/a/b.parquet"
    assert store.local_path(str(tmp_path / "x")) == tmp_path / "x"
    with pytest.raises(ValueError, match="outside the local object store"):
        store.local_path("s3://bucket/../../etc/passwd")


def test_listing_skips_staging_and_hidden_entries(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    write(store.local_path("s3://b/p/"), "data.parquet", "x")
    write(store.local_path("s3://b/p/_staging/"), "half.parquet", "y")
    write(store.local_path("s3://b/p/"), ".tmp", "z")
    assert [o.uri for o in store.list_objects("s3://b/p/")] == ["s3://b/p/data.parquet"]


def test_publish_swaps_the_whole_month(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    for version, names in (("v1", ["a", "b"]), ("v2", ["c"])):
        with store.staging_dir(MONTH) as staged:
            for name in names:
                write(staged, f"{name}.parquet", version)
            store.publish(staged, MONTH)
    assert contents(store, MONTH) == {"c.parquet": "v2"}
    assert not any((tmp_path / "lake/custos/_staging").rglob("*.parquet"))


def test_a_failure_before_the_swap_keeps_the_previous_month(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    with store.staging_dir(MONTH) as staged:
        write(staged, "a.parquet", "v1")
        store.publish(staged, MONTH)
    with pytest.raises(RuntimeError), store.staging_dir(MONTH) as staged:
        write(staged, "b.parquet", "half written")
        raise RuntimeError("ingest died")
    assert contents(store, MONTH) == {"a.parquet": "v1"}


def test_a_crash_between_the_renames_is_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    with store.staging_dir(MONTH) as staged:
        write(staged, "a.parquet", "v1")
        store.publish(staged, MONTH)

    real_rename = os.rename
    calls = []

    def rename_then_die(src: Path, dst: Path) -> None:
        calls.append(src)
        if len(calls) == 2:  # the old month is moved away, the new one not yet in place
            raise KeyboardInterrupt("killed")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_then_die)
    with pytest.raises(KeyboardInterrupt), store.staging_dir(MONTH) as staged:
        write(staged, "b.parquet", "v2")
        store.publish(staged, MONTH)
    monkeypatch.setattr(os, "rename", real_rename)

    store.recover_prefix(MONTH)  # what every reader (an engine session) does first
    assert contents(store, MONTH) == {"a.parquet": "v1"}


def publish(store: LocalObjectStore, name: str, text: str) -> str:
    with store.staging_dir(MONTH) as staged:
        write(staged, name, text)
        return store.publish(staged, MONTH)


def test_the_replaced_version_is_kept_until_retired(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    publish(store, "a.parquet", "v1")
    version = publish(store, "b.parquet", "v2")
    store.recover_prefix(MONTH)  # a reader meanwhile: the kept version is not a crash to undo
    assert contents(store, MONTH) == {"b.parquet": "v2"}
    assert list((tmp_path / "lake/custos/_replaced").rglob("a.parquet"))
    store.retire(MONTH, keep=version)
    assert not list((tmp_path / "lake/custos/_replaced").rglob("*.parquet"))
    assert contents(store, MONTH) == {"b.parquet": "v2"}


def test_discarding_a_version_puts_the_previous_one_back(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    store.retire(MONTH, keep=publish(store, "a.parquet", "v1"))
    store.discard(MONTH, publish(store, "b.parquet", "v2 failed its checks"))
    assert contents(store, MONTH) == {"a.parquet": "v1"}
    # With nothing before it, the discarded version leaves the prefix empty.
    first = "s3://lake/custos/cur/org=a/year=2026/month=2/"
    with store.staging_dir(first) as staged:
        write(staged, "c.parquet", "failed")
        store.discard(first, store.publish(staged, first))
    assert store.list_objects(first) == []
    assert not list((tmp_path / "lake/custos/_staging").rglob("*.parquet"))


def test_runs_of_one_month_take_turns(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    entered = threading.Event()

    def second_run() -> None:
        with store.exclusive(MONTH):
            entered.set()

    with store.exclusive(MONTH):
        waiting = threading.Thread(target=second_run)
        waiting.start()
        assert not entered.wait(0.5)  # blocked while the first run holds the month
        with store.exclusive("s3://lake/custos/cur/org=a/year=2026/month=2/"):
            pass  # another month is not held up
    waiting.join(timeout=30)
    assert entered.is_set()
