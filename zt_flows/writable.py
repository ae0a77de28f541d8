"""Finding out, before any work, that an output or cache folder cannot be written.

A run that reads a week of flow logs and then fails to write its first file has wasted the
week's work; so the commands try their ``--out`` and ``--cache-dir`` first. The test is a
real write (a temporary file or folder, removed at once), because permission bits do not
tell: a read-only mount, an ACL, a quota or an immutable folder refuse writes the bits allow,
and root passes every permission check. A folder that does not exist yet is not created
here: its nearest existing parent must accept a new folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from zt_flows.errors import OutputError

_PROBE = ".ztflows-write-test-"


def check_writable_dir(path: Path, *, option: str, hint: str | None = None) -> None:
    """Raise :class:`OutputError` (exit 2) unless ``path`` is, or can become, a folder
    this process can write into. ``option`` names where the path came from (``--out``)."""
    target = Path(path).expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"{target} ({option}) exists and is not a folder",
            hint=hint or f"pass a folder to {option}",
        )
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"cannot create {target} ({option}): {existing} is a file",
            hint=hint or f"pass a folder to {option}",
        )
    try:
        if existing == target:
            fd, probe = tempfile.mkstemp(prefix=_PROBE, dir=target)
            os.close(fd)
            Path(probe).unlink()
        else:
            Path(tempfile.mkdtemp(prefix=_PROBE, dir=existing)).rmdir()
    except OSError as exc:
        raise OutputError(
            f"cannot write to {target} ({option}): {_reason(exc, existing)}",
            hint=hint or f"pass {option} a folder you can write to",
        ) from None


def check_writable_file(path: Path, *, option: str, hint: str | None = None) -> None:
    """Raise :class:`OutputError` unless the file ``path`` can be written (created or
    replaced: outputs are written beside their target and renamed over it)."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise OutputError(
            f"{target} ({option}) is a folder", hint=hint or f"pass a file name to {option}"
        )
    check_writable_dir(target.parent, option=option, hint=hint)


def _reason(exc: OSError, where: Path) -> str:
    if exc.errno == errno.EROFS:
        return f"{where} is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied in {where}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left in {where}"
    with contextlib.suppress(ValueError):
        return os.strerror(exc.errno or 0)
    return str(exc)
