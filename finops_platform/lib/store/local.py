"""The embedded object store: S3 URIs mapped onto a local folder.

`s3://bucket/key` lives at `<root>/bucket/key`, so one tenants_config.json serves both the
embedded and the AWS mode. Plain paths (absolute, or relative to the working directory) are used
as they are, which is how a tenant reads a CUR export already on disk.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from finops_platform.lake import LOCKS, REPLACED, STAGING, beside_lake
from finops_platform.lib.locks import file_lock
from finops_platform.lib.store.base import Leftover, ObjectStore, StoredObject, iter_files


class LocalObjectStore(ObjectStore):
    """Object store on the local file system; `root` holds the local buckets."""

    root: str

    def local_path(self, uri: str) -> Path:
        if uri.startswith("s3://"):
            bucket_and_key = uri.removeprefix("s3://")
            path = Path(self.root, *[p for p in bucket_and_key.split("/") if p])
        else:
            path = Path(uri)
        resolved = path.resolve()
        if uri.startswith("s3://") and not resolved.is_relative_to(Path(self.root).resolve()):
            raise ValueError(f"{uri!r} points outside the local object store")
        return resolved

    def uri_of(self, path: Path, like: str) -> str:
        """The URI of a local `path` under the prefix `like` (the inverse of local_path)."""
        relative = path.resolve().relative_to(self.local_path(like))
        return like.rstrip("/") + "/" + relative.as_posix()

    def list_objects(self, uri: str) -> list[StoredObject]:
        root = self.local_path(uri)
        if not root.is_dir():
            return []
        return [_stored(path, self.uri_of(path, uri)) for path in iter_files(root)]

    def list_level(self, uri: str) -> tuple[list[StoredObject], list[str]]:
        folder = self.local_path(uri)
        if not folder.is_dir():
            return [], []
        base = uri.rstrip("/") + "/"
        objects, prefixes = [], []
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir():
                prefixes.append(f"{base}{entry.name}/")
            else:
                objects.append(_stored(entry, f"{base}{entry.name}"))
        return objects, prefixes

    def stored_prefixes(self, uri: str, levels: int) -> list[str]:
        found = set(super().stored_prefixes(uri, levels))
        final = self.local_path(uri)
        for kind in (STAGING, REPLACED):
            beside = beside_lake(final, kind)
            for path in beside.glob("/".join(["*"] * levels)) if beside.is_dir() else []:
                if path.is_dir():
                    found.add(uri.rstrip("/") + "/" + path.relative_to(beside).as_posix() + "/")
        return sorted(found)

    def read_bytes(self, uri: str) -> bytes:
        return self.local_path(uri).read_bytes()

    @contextmanager
    def local_copies(self, uris: list[str]) -> Iterator[list[Path]]:
        # The files are already local: reading them in place is the cheapest copy.
        yield [self.local_path(uri) for uri in uris]

    @contextmanager
    def writable_copy(self, uri: str) -> Iterator[Path]:
        # The folder behind the URI is already where the objects live.
        folder = self.local_path(uri)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder

    @contextmanager
    def staging_dir(self, final_uri: str) -> Iterator[Path]:
        # Same file system as the final prefix, so the swap is a rename.
        final = self.local_path(final_uri)
        staged = beside_lake(final, STAGING) / uuid.uuid4().hex
        staged.mkdir(parents=True)
        try:
            yield staged
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def ensure_prefix(self, uri: str, dry_run: bool = False) -> str:
        folder = self.local_path(uri)
        if folder.is_dir():
            return "exists"
        if not dry_run:
            folder.mkdir(parents=True)
        return "create"

    def recover_prefix(self, final_uri: str) -> None:
        final = self.local_path(final_uri)
        replaced = beside_lake(final, REPLACED)
        if replaced.exists():
            with file_lock(_lock_path(replaced)):
                _recover(final, replaced)

    def publish(self, staged: Path, final_uri: str) -> str:
        # A local month is one folder swapped by two renames: the version is the prefix itself.
        # The version it replaces is kept aside until `retire` (or `discard` puts it back).
        final = self.local_path(final_uri)
        replaced = beside_lake(final, REPLACED)
        final.parent.mkdir(parents=True, exist_ok=True)
        replaced.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(_lock_path(replaced)):
            _recover(final, replaced)
            if final.exists():
                _remove(replaced)  # a version kept aside by a publish that never retired it
                os.rename(final, replaced)
            # Between these two renames the month is briefly absent, never half-written;
            # a crash here is undone by recover_prefix, which readers call too.
            os.rename(staged, final)
        return final_uri

    def current_version(self, final_uri: str) -> str | None:
        self.recover_prefix(final_uri)
        return final_uri if self.local_path(final_uri).is_dir() else None

    def retire(self, final_uri: str, keep: str) -> None:
        replaced = self._replaced_of(final_uri, keep)
        with file_lock(_lock_path(replaced)):
            _remove(replaced)

    def discard(self, final_uri: str, version: str) -> None:
        final = self.local_path(final_uri)
        replaced = self._replaced_of(final_uri, version)
        with file_lock(_lock_path(replaced)):
            failed = beside_lake(final, STAGING) / f"discarded-{uuid.uuid4().hex}"
            failed.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.rename(final, failed)
            if replaced.exists():
                os.rename(replaced, final)
            _remove(failed)

    def reclaim(self, final_uri: str, live: str | None, dry_run: bool = False) -> list[Leftover]:
        # The live version is the prefix itself; leftovers are the partition's own staging
        # folders (a killed run's copy, a discarded version) and a version kept aside.
        final = self.local_path(final_uri)
        staging = beside_lake(final, STAGING)
        replaced = beside_lake(final, REPLACED)
        with file_lock(_lock_path(replaced)):
            if not dry_run:
                _recover(final, replaced)  # a half-done swap: the kept-aside version is live
            found = [
                (path, "staging")
                for path in (sorted(staging.iterdir()) if staging.is_dir() else [])
            ]
            if replaced.exists() and final.exists():
                found.append((replaced, "replaced version"))
            leftovers = [Leftover(self._uri_of_path(p), _size(p), kind) for p, kind in found]
            if not dry_run:
                for path, _ in found:
                    if path.is_dir():
                        _remove(path)
                    else:
                        path.unlink()
        return leftovers

    def _uri_of_path(self, path: Path) -> str:
        """`s3://bucket/key` of a path under the local buckets, else the path itself."""
        root = Path(self.root).resolve()
        if path.is_relative_to(root):
            return "s3://" + path.relative_to(root).as_posix()
        return str(path)

    def exclusive(
        self, final_uri: str, lease: dt.timedelta | None = None
    ) -> AbstractContextManager[None]:
        # A file lock ends with its holder's process: no lease to wait out.
        held = beside_lake(self.local_path(final_uri), LOCKS)
        return file_lock(held.with_name(held.name + ".lock"))

    def _replaced_of(self, final_uri: str, version: str) -> Path:
        """Where the version before `version` is kept aside (a local prefix has one version)."""
        if version != final_uri:
            raise ValueError(f"{version!r} is not a version of {final_uri!r} in the local store")
        return beside_lake(self.local_path(final_uri), REPLACED)


def _remove(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _stored(path: Path, uri: str) -> StoredObject:
    # Modification time and size stand in for S3's ETag: both change when a file is rewritten.
    stat = path.stat()
    return StoredObject(uri=uri, size=stat.st_size, etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}")


def _lock_path(replaced: Path) -> Path:
    return replaced.with_name(replaced.name + ".lock")


def _recover(final: Path, replaced: Path) -> None:
    """Undo a swap that a killed process left half done: the month moved aside, the new one not
    yet in place. (With both present, `replaced` is the previous version, kept until retired.)"""
    if replaced.exists() and not final.exists():
        os.rename(replaced, final)
