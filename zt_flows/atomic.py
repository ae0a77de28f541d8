"""Writing files and folders so that nothing half-written survives an interruption.

Every output is written to a temporary name beside its target, flushed to disk, then
renamed over the target: a rename within one directory is atomic, so a reader (or the
next run) sees the old file or the new one, never a mix. Temporary names are unique per
call (process id and a random token), so two runs writing the same target at once never
share a temporary file: each rename is whole, and the last one wins.

- :func:`atomic_path`: a temporary path for a writer that wants a path (DuckDB ``COPY``,
  pyarrow, a download), renamed into place when the block succeeds, removed otherwise;
- :func:`write_text` / :func:`write_bytes`: one file;
- :func:`write_files`: several files of one folder, all written before any is renamed;
- :func:`atomic_dir`: a whole folder, assembled beside the target and renamed into place
  (or swapped with the old one).

New files get the usual permissions (0666 less the umask), not ``mkstemp``'s 0600: the
rename makes them the user's files. ``durable`` files are fsynced before the rename and
their folder after it, so a crash cannot leave an empty file where a whole one was; a
cache entry, which can be fetched again, skips that cost.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from zt_flows.errors import OutputError

TEMP_SUFFIX = ".tmp"


def temp_path(target: Path, suffix: str = TEMP_SUFFIX) -> Path:
    """A hidden name beside ``target`` that no other call (or process) uses."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; not every file system lets a folder be opened.
    with contextlib.suppress(OSError):
        _fsync_file(path)


@contextlib.contextmanager
def atomic_path(target: Path, *, suffix: str = TEMP_SUFFIX, durable: bool = True) -> Iterator[Path]:
    """A unique temporary path beside ``target``, renamed to ``target`` when the block succeeds.

    On any exception (KeyboardInterrupt included) the temporary file is removed and
    ``target`` is left as it was. The folder is created if need be.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target, suffix)
    try:
        yield tmp
        if durable:
            _fsync_file(tmp)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(target.parent)


def create_file(path: Path, data: bytes | str, *, durable: bool = True) -> Path:
    """``path`` as a new file holding ``data`` (text as UTF-8), 0666 less the umask.

    For files inside a folder :func:`atomic_dir` is about to rename, and for the
    temporary files of this module: ``path`` must not exist yet.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    return path


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; a failure is an :class:`OutputError`."""
    try:
        with atomic_path(path, durable=durable) as tmp:
            create_file(tmp, data, durable=False)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_text(path: Path, text: str, *, durable: bool = True) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"), durable=durable)


def write_files(folder: Path, files: Mapping[str, str]) -> tuple[Path, ...]:
    """Write several text files into ``folder``: every one is written beside its target
    before any is renamed, so an interruption while writing leaves all the old files."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {folder}: {exc.strerror or exc}") from None
    temps: list[tuple[Path, Path]] = []
    try:
        for name, text in files.items():
            target = folder / name
            tmp = temp_path(target)
            temps.append((tmp, target))
            create_file(tmp, text)
        for tmp, target in temps:
            tmp.replace(target)
    except OSError as exc:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise OutputError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    _fsync_dir(folder)
    return tuple(target for _, target in temps)


@contextlib.contextmanager
def atomic_dir(target: Path, *, replace: bool = False) -> Iterator[Path]:
    """A new folder beside ``target``, renamed to ``target`` when the block succeeds.

    Without ``replace`` an existing ``target`` is refused (when the block ends: it may
    appear meanwhile); with it, the old folder is moved aside, the new one renamed in,
    and the old one removed, so an interruption leaves one or the other, and the old one
    is put back if the rename fails. The new folder honours the umask, as a folder the
    user made would, and takes the old one's permissions when it replaces one. On any
    exception the new folder is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    tmp.mkdir()
    old: Path | None = None
    try:
        yield tmp
        if target.exists() and not replace:
            raise OutputError(f"{target} appeared meanwhile; not overwriting it")
        if target.is_dir():
            shutil.copymode(target, tmp)
            old = temp_path(target, ".old")
            old.mkdir()
            target.replace(old / target.name)
        tmp.replace(target)
    except BaseException:
        if old is not None and not target.exists():
            (old / target.name).replace(target)  # put the previous folder back
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(target.parent)


__all__ = [
    "TEMP_SUFFIX",
    "atomic_dir",
    "atomic_path",
    "create_file",
    "temp_path",
    "write_bytes",
    "write_files",
    "write_text",
]
