"""The local cache: downloaded S3 objects and canonical conversions of text objects.

Layout under ``settings.sources.cache_dir``::

    s3/<aa>/<sha256>.<suffix>      an S3 object, keyed by bucket, key and ETag
    converted/<aa>/<sha256>.parquet  a text object as canonical Parquet, keyed by its
                                   identity (bucket/key/ETag, or path/size/mtime) and
                                   the converter's version

A key is a hash, so odd characters in S3 keys never become paths, and an object that
changes (new ETag, new mtime) gets a new entry instead of a stale hit. Every file is
written to a ``.part`` name beside its target and renamed into place: a file under its
final name is always complete. ``.part`` files a killed process left behind are removed
on the next run once they are an hour old (younger ones may belong to a concurrent run).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path

from zt_flows.atomic import atomic_path as _atomic_path

PART_SUFFIX = ".part"
_STALE_PART_SECONDS = 3600


def cache_key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
    return digest.hexdigest()


def entry_path(root: Path, area: str, key: str, suffix: str) -> Path:
    return root / area / key[:2] / f"{key}{suffix}"


def atomic_path(target: Path) -> contextlib.AbstractContextManager[Path]:
    """A ``.part`` path beside ``target``; renamed to ``target`` when the block succeeds.

    On any exception (including KeyboardInterrupt) the temporary file is removed and
    ``target`` is left as it was. Not fsynced: a lost entry is fetched again.
    """
    return _atomic_path(target, suffix=PART_SUFFIX, durable=False)


def remove_stale_parts(root: Path, area: str) -> None:
    """Delete ``.part`` files an interrupted earlier run left in ``root/area``."""
    base = root / area
    if not base.is_dir():
        return
    cutoff = time.time() - _STALE_PART_SECONDS
    for path in base.glob(f"*/*{PART_SUFFIX}"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
