"""What the pipeline needs from an object store, whatever backs it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg


@dataclass(frozen=True)
class StoredObject:
    """One object (file) in the store. `etag` changes whenever the content may have changed."""

    uri: str
    size: int
    etag: str


@dataclass(frozen=True)
class Leftover:
    """What an earlier run of a partition left behind and nobody reads: a staging copy, a
    version kept aside, or a version the catalog never registered. `uri` is a folder or prefix."""

    uri: str
    bytes: int
    kind: str


class ObjectStore(dg.ConfigurableResource):
    """Base of the object store resources; assets only call these methods.

    URIs are `s3://bucket/key` or plain paths. Subclasses decide where those bytes really are.
    """

    def list_objects(self, uri: str) -> list[StoredObject]:
        """Every object under the prefix `uri`, recursively, sorted by URI."""
        raise NotImplementedError

    def list_level(self, uri: str) -> tuple[list[StoredObject], list[str]]:
        """The objects directly under the prefix `uri` and its sub-prefixes (as URIs ending in
        `/`), like one level of a folder: lets a caller walk a tree without listing all of it."""
        raise NotImplementedError

    def stored_prefixes(self, uri: str, levels: int) -> list[str]:
        """The prefixes `levels` levels below `uri` that hold anything: a version or (local
        store) a staging copy or a version kept aside. Finds months the catalog does not know,
        e.g. of a first run killed before it registered anything."""
        found = [uri]
        for _ in range(levels):
            found = [prefix for parent in found for prefix in self.list_level(parent)[1]]
        return found

    def read_bytes(self, uri: str) -> bytes:
        raise NotImplementedError

    def local_copies(self, uris: list[str]) -> AbstractContextManager[list[Path]]:
        """Readable local files with the objects' content, valid inside the context."""
        raise NotImplementedError

    def staging_dir(self, final_uri: str) -> AbstractContextManager[Path]:
        """An empty local folder to build the new content of `final_uri` in; removed on exit."""
        raise NotImplementedError

    def publish(self, staged: Path, final_uri: str) -> str:
        """Make the files of `staged` the new version of the prefix `final_uri`.

        Returns the location of that version, which the catalog then registers. The previous
        version stays readable until `retire` removes it, and either the old or the new version
        stays readable if the process dies at any point.
        """
        raise NotImplementedError

    def current_version(self, final_uri: str) -> str | None:
        """The location of the newest complete version published under `final_uri`, if any."""
        raise NotImplementedError

    def retire(self, final_uri: str, keep: str) -> None:
        """Delete the versions under `final_uri` older than `keep` (the one the catalog now
        registers). A newer one belongs to another run, which retires it in turn."""
        raise NotImplementedError

    def discard(self, final_uri: str, version: str) -> None:
        """Undo publishing `version` (it failed its checks): delete it, and the version before
        it, which `retire` has not removed yet, is the prefix's content again."""
        raise NotImplementedError

    def exclusive(
        self, final_uri: str, lease: dt.timedelta | None = None
    ) -> AbstractContextManager[None]:
        """Held while a new version of `final_uri` is written, checked, then kept or discarded:
        two runs of one partition (the arrival sensor and a schedule, say) take turns instead of
        interleaving their versions. Where a killed holder's lock outlives it (S3), it is taken
        over once older than `lease` (default: longer than any partition's rebuild); a lock held
        for seconds gives a short one."""
        raise NotImplementedError

    def recover_prefix(self, final_uri: str) -> None:
        """Finish or undo a publication of `final_uri` that a killed process left half done."""
        raise NotImplementedError

    def reclaim(self, final_uri: str, live: str | None, dry_run: bool = False) -> list[Leftover]:
        """Remove (or with `dry_run` only list) what earlier runs of the partition `final_uri`
        left: their staging copies and the versions that are neither `live` (the one the
        catalog points at, never removed) nor awaiting registration.

        Call it only inside `exclusive(final_uri)`: then no other run of the partition is
        writing, so nothing found is in use. Other partitions' leftovers are not touched.
        `live=None` means the caller does not know it: every complete version is kept.
        """
        raise NotImplementedError

    def writable_copy(self, uri: str) -> AbstractContextManager[Path]:
        """A local folder whose files become objects under `uri` when the context ends.

        Manifests are stored last, since a CUR manifest marks a delivery complete.
        """
        raise NotImplementedError

    def ensure_prefix(self, uri: str, dry_run: bool = False) -> str:
        """Provision the prefix `uri`; returns "create" or "exists"."""
        raise NotImplementedError

    def local_path(self, uri: str) -> Path | None:
        """The local folder or file behind `uri`, when the store is local (else None)."""
        raise NotImplementedError


def iter_files(root: Path) -> Iterator[Path]:
    """Files under `root`, recursively, skipping hidden and temporary entries."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(
            part.startswith((".", "_")) for part in path.relative_to(root).parts
        ):
            yield path
