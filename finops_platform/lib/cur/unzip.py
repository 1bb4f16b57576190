"""ZIP-compressed CSV reports, unpacked to plain CSV before the read.

AWS compresses a legacy CSV report as GZIP or as ZIP (`<report>-1.csv.zip`, one CSV member
each). DuckDB streams gzip itself but has no ZIP reader, so each ZIP part is inflated once into
a temporary folder, and the normalization reads the plain CSV there with the same scan. Python's
`zipfile` checks each member's CRC as it reads to the end, so a damaged part fails by its name
before DuckDB sees a byte of it. The unpacked copies take the CSV's full size on local disk
while the month is read, and are removed after.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.manifest import CSV_SUFFIXES, ZIP

_CHUNK = 1 << 20
# Disk left free after unpacking a part: the lake's own writes of the month need room too.
_DISK_RESERVE = 1 << 30


def _unpack(path: Path, uri: str, target: Path, where: str) -> Path:
    """The one CSV member of the ZIP file at `path`, written to `target`."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1 or not members[0].filename.lower().endswith(".csv"):
                names = ", ".join(m.filename for m in members) or "none"
                raise DeliveryError(
                    f"{where}: {uri}: a ZIP CSV report part holds one .csv file, this one "
                    f"holds {names}"
                )
            # The declared size bounds what zipfile will inflate: a part that would fill the
            # disk (a hostile or broken ZIP) fails by its name before a byte is written.
            free = shutil.disk_usage(target.parent).free
            if members[0].file_size > free - _DISK_RESERVE:
                raise DeliveryError(
                    f"{where}: {uri}: unpacks to {members[0].file_size:,} bytes, more than "
                    f"the {free:,} bytes free for it (less {_DISK_RESERVE:,} kept in reserve)"
                )
            with archive.open(members[0]) as member, target.open("wb") as out:
                shutil.copyfileobj(member, out, _CHUNK)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise DeliveryError(f"{where}: {uri}: corrupt ZIP data: {exc}") from exc
    return target


@contextmanager
def unzipped(paths: Sequence[Path], uris: Sequence[str], where: str) -> Iterator[list[Path]]:
    """`paths` with each ZIP CSV part replaced by its unpacked CSV (valid inside the context);
    other files are passed through untouched."""
    zipped = [uri.lower().endswith(CSV_SUFFIXES[ZIP]) for uri in uris]
    if not any(zipped):
        yield list(paths)
        return
    with tempfile.TemporaryDirectory(prefix="finops-unzip-") as folder:
        yield [
            _unpack(path, uri, Path(folder) / f"{index}.csv", where) if is_zip else path
            for index, (path, uri, is_zip) in enumerate(zip(paths, uris, zipped, strict=True))
        ]
