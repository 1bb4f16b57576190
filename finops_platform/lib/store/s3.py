"""The object store on Amazon S3.

S3 cannot rename a prefix, so a month is never replaced in place: `publish` uploads the new
files under a fresh version prefix (`<month prefix>v=<time>-<id>/`) and writes a `_SUCCESS`
marker last; the catalog then points the partition at that version (one Glue call, atomic for
readers), and only then does `retire` delete the older versions. A crash at any point leaves the
registered version whole; an unfinished version has no marker, is never registered, and is
deleted by the next `retire`.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import ClientError
from pyarrow import fs

from finops_platform.core import ConfigError
from finops_platform.lake import SUCCESS_MARKER, VERSION_PREFIX, new_version
from finops_platform.lib.aws import aws_client, split_s3_uri
from finops_platform.lib.store.base import Leftover, ObjectStore, StoredObject

# Held by the run replacing a month (`exclusive`); hidden from readers like every `_` object.
LOCK_OBJECT = "_lock"
# A lock older than this was left by a killed run: any partition is rebuilt well within it.
LOCK_LEASE = dt.timedelta(hours=2)
PARQUET_MAGIC = b"PAR1"
LOCK_HELD_ERRORS = ("PreconditionFailed", "ConditionalRequestConflict")


def _hidden(relative_key: str) -> bool:
    return any(part.startswith((".", "_")) for part in relative_key.split("/"))


class S3ObjectStore(ObjectStore):
    """Object store on S3; endpoint and credentials from the standard AWS environment."""

    region: str
    # How long a run waits for another run of the same partition before giving up.
    lock_wait_seconds: float = 900
    lock_poll_seconds: float = 2

    def _s3(self):
        return aws_client("s3", self.region)

    def _keys(self, uri: str) -> Iterator[dict]:
        bucket, prefix = split_s3_uri(uri)
        for page in (
            self._s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        ):
            yield from page.get("Contents", [])

    def list_objects(self, uri: str) -> list[StoredObject]:
        bucket, prefix = split_s3_uri(uri)
        objects = [
            StoredObject(
                uri=f"s3://{bucket}/{item['Key']}",
                size=item["Size"],
                etag=item["ETag"].strip('"'),
            )
            for item in self._keys(uri)
            if not item["Key"].endswith("/") and not _hidden(item["Key"][len(prefix) :])
        ]
        return sorted(objects, key=lambda o: o.uri)

    def list_level(self, uri: str) -> tuple[list[StoredObject], list[str]]:
        bucket, prefix = split_s3_uri(uri.rstrip("/") + "/")
        pages = (
            self._s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        )
        objects, prefixes = [], []
        for page in pages:
            objects += [
                StoredObject(f"s3://{bucket}/{o['Key']}", o["Size"], o["ETag"].strip('"'))
                for o in page.get("Contents", [])
                if not _hidden(o["Key"][len(prefix) :]) and o["Key"] != prefix
            ]
            prefixes += [
                f"s3://{bucket}/{p['Prefix']}"
                for p in page.get("CommonPrefixes", [])
                if not _hidden(p["Prefix"][len(prefix) :].rstrip("/"))
            ]
        return objects, prefixes

    def read_bytes(self, uri: str) -> bytes:
        bucket, key = split_s3_uri(uri)
        return self._s3().get_object(Bucket=bucket, Key=key)["Body"].read()

    @contextmanager
    def local_copies(self, uris: list[str]) -> Iterator[list[Path]]:
        with tempfile.TemporaryDirectory(prefix="finops-s3-") as folder:
            client = self._s3()
            paths = []
            for index, uri in enumerate(uris):
                bucket, key = split_s3_uri(uri)
                path = Path(folder, str(index), posixpath.basename(key))
                path.parent.mkdir()
                client.download_file(bucket, key, str(path))
                paths.append(path)
            yield paths

    @contextmanager
    def writable_copy(self, uri: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="finops-upload-") as folder:
            yield Path(folder)
            bucket, prefix = split_s3_uri(uri.rstrip("/") + "/")
            files = sorted(
                (p for p in Path(folder).rglob("*") if p.is_file()),
                key=lambda p: (p.name.endswith("-Manifest.json"), str(p)),
            )
            client = self._s3()
            for path in files:
                client.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())

    @contextmanager
    def staging_dir(self, final_uri: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="finops-staging-") as folder:
            yield Path(folder)

    def publish(self, staged: Path, final_uri: str) -> str:
        version = new_version(final_uri)
        bucket, prefix = split_s3_uri(version)
        client = self._s3()
        for path in sorted(staged.glob("*")):
            client.upload_file(str(path), bucket, prefix + path.name)
        self.mark_complete(version)
        return version

    def current_version(self, final_uri: str) -> str | None:
        bucket, prefix = split_s3_uri(final_uri.rstrip("/") + "/")
        pages = (
            self._s3()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix + VERSION_PREFIX, Delimiter="/")
        )
        versions = sorted(
            (p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])), reverse=True
        )
        for version in versions:
            if self._exists(bucket, version + SUCCESS_MARKER):
                return f"s3://{bucket}/{version}"
        return None

    def _exists(self, bucket: str, key: str) -> bool:
        listed = self._s3().list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        return any(item["Key"] == key for item in listed.get("Contents", []))

    def retire(self, final_uri: str, keep: str) -> None:
        """Delete what is under the month but older than the version `keep`. A newer version
        belongs to a run that published after this one, which may still be uploading or about
        to register it: that run, or the month's next publish, retires it."""
        bucket, keep_prefix = split_s3_uri(keep)
        _, month_prefix = split_s3_uri(final_uri.rstrip("/") + "/")
        kept_from = keep_prefix.removeprefix(month_prefix)  # "v=<stamp>-<id>/": sorts by time
        stale = [
            {"Key": item["Key"]}
            for item in self._keys(final_uri)
            if item["Key"] != month_prefix + LOCK_OBJECT
            and not (
                item["Key"].startswith(month_prefix + VERSION_PREFIX)
                and item["Key"].removeprefix(month_prefix) >= kept_from
            )
        ]
        self._delete(bucket, stale)

    def reclaim(self, final_uri: str, live: str | None, dry_run: bool = False) -> list[Leftover]:
        """Staging is a local temporary folder here; a killed run's leftovers in the lake are
        its versions: unfinished ones (no `_SUCCESS`; under the lock none is being uploaded)
        and complete ones older than `live`. A complete version newer than `live` is kept: a
        run may have published it for the catalog to register next (raw_cur publishes,
        tb_cur_raw registers). Objects outside `v=` prefixes are not versions and are left."""
        bucket, month_prefix = split_s3_uri(final_uri.rstrip("/") + "/")
        if live and not split_s3_uri(live)[1].startswith(month_prefix):
            raise ValueError(f"{live!r} is not a version of {final_uri!r}")
        live_version = split_s3_uri(live)[1].removeprefix(month_prefix) if live else None
        versions: dict[str, list[dict]] = {}
        for item in self._keys(final_uri):
            relative = item["Key"].removeprefix(month_prefix)
            if relative.startswith(VERSION_PREFIX) and "/" in relative:
                versions.setdefault(relative.split("/", 1)[0] + "/", []).append(item)
        leftovers, keys = [], []
        for version, items in sorted(versions.items()):
            finished = any(i["Key"].endswith("/" + SUCCESS_MARKER) for i in items)
            if version == live_version:
                continue
            if finished and (live_version is None or version > live_version):
                continue  # may await registration
            kind = "old version" if finished else "unfinished version"
            uri = f"s3://{bucket}/{month_prefix}{version}"
            leftovers.append(Leftover(uri, sum(i["Size"] for i in items), kind))
            keys += [{"Key": i["Key"]} for i in items]
        if not dry_run:
            self._delete(bucket, keys)
        return leftovers

    def discard(self, final_uri: str, version: str) -> None:
        # Versions sit side by side: the one before is still there until retired.
        self.delete_prefix(version)

    def _delete(self, bucket: str, keys: list[dict]) -> None:
        client = self._s3()
        for start in range(0, len(keys), 1000):  # the DeleteObjects limit
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000]})

    @contextmanager
    def exclusive(self, final_uri: str, lease: dt.timedelta | None = None) -> Iterator[None]:
        # S3 has no locks, but a conditional put (If-None-Match: *) creates an object only where
        # there is none: the run that creates the month's lock object holds it.
        bucket, prefix = split_s3_uri(final_uri.rstrip("/") + "/")
        key = prefix + LOCK_OBJECT
        client = self._s3()
        started = time.monotonic()
        while not self._create_lock(client, bucket, key, LOCK_LEASE if lease is None else lease):
            if time.monotonic() - started > self.lock_wait_seconds:
                raise TimeoutError(
                    f"another run has been replacing {final_uri} for over "
                    f"{self.lock_wait_seconds:.0f} s (lock s3://{bucket}/{key}); try again later"
                )
            time.sleep(self.lock_poll_seconds)
        try:
            yield
        finally:
            client.delete_object(Bucket=bucket, Key=key)

    def _create_lock(self, client: Any, bucket: str, key: str, lease: dt.timedelta) -> bool:
        try:
            client.put_object(Bucket=bucket, Key=key, Body=b"", IfNoneMatch="*")
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
            ):
                raise
        try:
            held = client.head_object(Bucket=bucket, Key=key)
        except ClientError:
            return False  # released meanwhile: try again
        if dt.datetime.now(dt.UTC) - held["LastModified"] > lease:
            # Left by a killed run. Only that lock object is removed, not one taken since.
            client.delete_object(Bucket=bucket, Key=key, IfMatch=held["ETag"])
        return False

    def recover_prefix(self, final_uri: str) -> None:
        # Versions are immutable and the marker is written last: there is nothing to undo.
        return None

    def local_path(self, uri: str) -> Path | None:
        return None

    def ensure_prefix(self, uri: str, dry_run: bool = False) -> str:
        """Create a folder marker for `uri` (S3 has no folders; consoles and crawlers use these)."""
        bucket, key = split_s3_uri(uri.rstrip("/") + "/")
        client = self._s3()
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError:
            raise ConfigError(
                f"S3 bucket {bucket!r} does not exist or is not accessible: create it (it holds "
                "every tenant's lake) or fix lake_root in the environment settings"
            ) from None
        if self._exists(bucket, key):
            return "exists"
        if not dry_run:
            self._s3().put_object(Bucket=bucket, Key=key, Body=b"")
        return "create"

    def _filesystem(self) -> fs.S3FileSystem:
        return fs.S3FileSystem(
            region=self.region, endpoint_override=os.environ.get("AWS_ENDPOINT_URL")
        )

    def parquet_rows(self, uri: str) -> int:
        """Rows in the Parquet files under `uri` (Athena's UNLOAD names them without a suffix),
        read from their footers only."""
        filesystem = self._filesystem()
        return sum(
            pq.read_metadata(o.uri.removeprefix("s3://"), filesystem=filesystem).num_rows
            for o in self.list_objects(uri)
        )

    def read_range(self, uri: str, first: int, last: int) -> bytes:
        """Bytes `first` to `last` (inclusive) of one object: one ranged GET, e.g. the start
        of a gzip CSV file for its header, without its data."""
        bucket, key = split_s3_uri(uri)
        answer = self._s3().get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
        return answer["Body"].read()

    def parquet_footer(self, stored: StoredObject) -> pq.FileMetaData:
        """The footer of one Parquet object: the schema and row count of a file without
        moving its data to this machine. Two ranged GETs (the footer's length in the last 8
        bytes, then the footer itself), no HEAD (the listing gave the size)."""
        bucket, key = split_s3_uri(stored.uri)
        client = self._s3()

        def tail(first: int) -> bytes:
            answer = client.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-")
            return answer["Body"].read()

        end = tail(max(stored.size - 8, 0))
        if len(end) < 8 or end[4:] != PARQUET_MAGIC:
            raise OSError(f"{stored.uri} does not end like a Parquet file")
        length = int.from_bytes(end[:4], "little")
        if length + 12 > stored.size:
            raise OSError(f"{stored.uri}: its footer length ({length}) exceeds the file")
        footer = tail(stored.size - 8 - length)
        # What the reader needs of a file: the magic at both ends and the footer before the end.
        return pq.read_metadata(pa.BufferReader(PARQUET_MAGIC + footer))

    def copy_object(self, source: str, target: str) -> None:
        """Copy an object inside S3 (server-side: no byte passes through this machine); a
        managed copy, so objects over CopyObject's 5 GB limit are copied in parts."""
        source_bucket, source_key = split_s3_uri(source)
        bucket, key = split_s3_uri(target)
        self._s3().copy({"Bucket": source_bucket, "Key": source_key}, bucket, key)

    def put_text(self, uri: str, text: str) -> None:
        """Store a small text object (a listing, a marker)."""
        bucket, key = split_s3_uri(uri)
        self._s3().put_object(Bucket=bucket, Key=key, Body=text.encode())

    def mark_complete(self, version: str) -> None:
        """Write the `_SUCCESS` marker of a version whose files another writer (Athena's
        UNLOAD) put there: from now on it is a complete version, as `publish` leaves one."""
        self.put_text(version.rstrip("/") + "/" + SUCCESS_MARKER, "")

    def delete_prefix(self, uri: str) -> None:
        """Delete every object under the prefix `uri`."""
        bucket, _ = split_s3_uri(uri)
        self._delete(bucket, [{"Key": item["Key"]} for item in self._keys(uri)])
