"""Real file-system faults for tests: a folder that refuses writes, a disk that fills up.

The kernel says no, not a stub: as an ordinary user a folder without write permission
refuses writes; as root (which passes every permission check) a read-only tmpfs is
mounted instead. A full disk is a small tmpfs (root), or, for an ordinary user who cannot
mount, a file-size limit (``RLIMIT_FSIZE``, an eighth of the room: no single file gets
the whole disk) on the process that writes: writes past it fail with EFBIG as writes to a
full disk fail with ENOSPC.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

IS_ROOT = os.geteuid() == 0


def _mount(args: Sequence[str]) -> bool:
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def read_only_dir(path: Path) -> Iterator[Path]:
    """``path`` (created) as a folder nobody can write into, for the duration."""
    path.mkdir(parents=True, exist_ok=True)
    if not IS_ROOT:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    if _mount(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)]):
        try:
            yield path
        finally:
            _umount(path)
        return
    flags = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if flags.returncode != 0:
        pytest.skip("running as root without CAP_SYS_ADMIN or CAP_LINUX_IMMUTABLE")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


@dataclass(frozen=True)
class SmallDisk:
    """A folder on a disk with ``room`` bytes, and how to run a process that writes there."""

    path: Path
    room: int
    mounted: bool  # False: the room is a per-file size limit of the child process

    def run(
        self, args: Sequence[str], *, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``ztflows ARGS`` in a child process (under the file-size limit when not mounted)."""
        limit = "0" if self.mounted else str(self.room // 8)
        return subprocess.run(
            [sys.executable, "-c", _LIMITED, limit, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )


# The limit is set by the child itself: a pre-exec hook is unsafe in a threaded parent.
_LIMITED = """
import resource, runpy, sys
limit = int(sys.argv[1])
if limit:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["ztflows", *sys.argv[2:]]
runpy.run_module("zt_flows", run_name="__main__")
"""


@contextlib.contextmanager
def small_disk(path: Path, room: int) -> Iterator[SmallDisk]:
    """A folder with about ``room`` bytes free."""
    path.mkdir(parents=True, exist_ok=True)
    if IS_ROOT and _mount(["-t", "tmpfs", "-o", f"size={room}", "tmpfs", str(path)]):
        try:
            yield SmallDisk(path, room, mounted=True)
        finally:
            _umount(path)
        return
    yield SmallDisk(path, room, mounted=False)
