"""The local cache: downloaded S3 objects and canonical conversions of text objects.

Layout under ``settings.sources.cache_dir``::

    s3/<aa>/<sha256>.parquet         a Parquet object from S3, keyed by bucket, key and ETag
    converted/<aa>/<sha256>.parquet  a text object as canonical Parquet, keyed by its
                                     identity (bucket/key/ETag, stream/events, or
                                     path/size/mtime) and the converter's version
    checked/<aa>/<sha256>.json       the verdict of a Parquet object's value checks
    staging/<run>/                   one run's private files (text objects on their way to
                                     a conversion); removed when the run ends

A key is a hash, so odd characters in S3 keys never become paths, and an object that
changes (new ETag, new mtime) gets a new entry instead of a stale hit.

Several runs may share one cache (two terminals, a cron job and a person). So an entry is
immutable once complete:

* every entry is written under a ``.part`` name beside its target and published under its
  final name only when complete (:func:`cache_entry`): a file under its final name is
  always whole, whatever stops the run (Ctrl-C, a full disk, a kill);
* publishing never replaces a complete entry another run published first (a hard link
  that fails if the name exists; the two files hold the same bytes), so a run reading an
  entry never sees it change or disappear; only an entry found damaged (a size that is not
  the listing's) is replaced;
* ztflows deletes no complete entry. Text objects are downloaded into the run's own
  staging folder, converted, and only the conversion enters the cache: no run converts
  from a file another run may delete.

``.part`` files and staging folders a killed run left behind are removed by a later run
once nothing has written to them for an hour (younger ones may belong to a run still at work).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zt_flows.atomic import atomic_path as _atomic_path
from zt_flows.atomic import temp_path
from zt_flows.errors import OutputError
from zt_flows.writable import check_writable_dir

PART_SUFFIX = ".part"
STAGING = "staging"
_STALE_SECONDS = 3600
# Write faults that are about the disk, never about the data being read: a full disk, a
# quota, a file-size limit, a file system mounted read-only.
_DISK_FAULTS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def cache_key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
    return digest.hexdigest()


def entry_path(root: Path, area: str, key: str, suffix: str) -> Path:
    return root / area / key[:2] / f"{key}{suffix}"


def _part_path(target: Path) -> Path:
    return temp_path(target, PART_SUFFIX)


def atomic_path(target: Path) -> contextlib.AbstractContextManager[Path]:
    """A temporary path beside ``target``; renamed to ``target`` when the block succeeds
    (:func:`zt_flows.atomic.atomic_path` with the cache's ``.part`` suffix, which the
    stale-file sweep recognises, and no fsync: a lost file is fetched again).

    For files the run replaces (its staging folder); cache entries use :func:`cache_entry`.
    """
    return _atomic_path(target, suffix=PART_SUFFIX, durable=False)


@contextmanager
def cache_entry(target: Path, *, replace: bool = False) -> Iterator[Path]:
    """A temporary path beside ``target``, published as the entry when the block succeeds.

    A complete entry another run published meanwhile is kept and ours dropped (the same
    identity gives the same bytes); ``replace`` replaces it (the caller found it damaged).
    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _part_path(target)
    try:
        yield tmp
        publish_entry(tmp, target, replace=replace)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def publish_entry(tmp: Path, target: Path, *, replace: bool = False) -> None:
    """Give the complete file ``tmp`` the name ``target`` (see :func:`cache_entry`);
    ``tmp`` is gone afterwards."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if replace:
        tmp.replace(target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        pass  # another run published the same entry first: readers keep that file
    except OSError:
        # No hard links on this file system: a rename is as atomic, though it may replace
        # an entry published meanwhile (with the same bytes).
        tmp.replace(target)
        return
    tmp.unlink()


def entry_complete(path: Path, size: int) -> bool:
    """Whether the entry at ``path`` exists with the size the listing gave."""
    try:
        return path.stat().st_size == size
    except OSError:
        return False


@contextmanager
def staging_dir(root: Path) -> Iterator[Path]:
    """A folder in the cache private to this run, removed (with what it holds) at the end."""
    base = root / STAGING
    base.mkdir(parents=True, exist_ok=True)
    folder = base / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        try:
            shutil.rmtree(folder, ignore_errors=True)
        except KeyboardInterrupt:
            # Ctrl-C landed during the cleanup itself: finish it, then stop.
            shutil.rmtree(folder, ignore_errors=True)
            raise


@contextmanager
def disk_faults(root: Path) -> Iterator[None]:
    """Writing the cache under ``root`` failed for want of room or permission: an
    :class:`~zt_flows.errors.OutputError` (exit 2) naming the cache, not a crash."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _DISK_FAULTS:
            raise
        reason = os.strerror(exc.errno) if exc.errno is not None else str(exc)
        raise OutputError(
            f"cannot write to the cache in {root}: {reason}",
            hint="free space there, or pass --cache-dir on a disk with room (the cache holds"
            " the downloaded and converted flow logs)",
        ) from None


CACHE_HINT = "pass --cache-dir (or set ZTFLOWS_CACHE_DIR) to a folder you can write to"


def check_cache_dir(root: Path) -> None:
    """Raise :class:`OutputError` (exit 2) unless the cache folder can be written."""
    check_writable_dir(root, option="--cache-dir", hint=CACHE_HINT)


def remove_stale_parts(root: Path, area: str) -> None:
    """Delete ``.part`` files an interrupted earlier run left in ``root/area``."""
    base = root / area
    if not base.is_dir():
        return
    cutoff = time.time() - _STALE_SECONDS
    for path in base.glob(f"*/*{PART_SUFFIX}"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def remove_stale_staging(root: Path) -> None:
    """Delete staging folders of runs that were killed: nothing written in them for an hour."""
    base = root / STAGING
    if not base.is_dir():
        return
    cutoff = time.time() - _STALE_SECONDS
    for folder in base.iterdir():
        with contextlib.suppress(OSError):
            times = [folder.stat().st_mtime]
            times += [p.stat().st_mtime for p in folder.rglob("*")]
            if max(times) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
