"""Writing an output directory all at once, and only over what ztflows wrote before.

The new contents are assembled in a temporary directory beside the target and
swapped in with renames, so an interruption leaves either the old directory or the
new one, never a mix. A marker file records which files ztflows wrote; files it did
not write (a ``backend.tf``, ``.terraform/``, a local state file) are carried into
the new directory unchanged, as hard links where the file system allows.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from zt_flows.atomic import atomic_dir, create_file
from zt_flows.errors import OutputError

MARKER = ".ztflows-output"
_MARKER_HEADER = (
    "# Written by ztflows. The files listed below are replaced on every run;\n"
    "# other files in this directory are kept as they are.\n"
)


def marker_text(files: Mapping[str, str]) -> str:
    return _MARKER_HEADER + "".join(f"{name}\n" for name in sorted(files))


def _owned(out: Path) -> set[str] | None:
    """The files ztflows wrote into ``out`` last time, or None without a marker."""
    marker = out / MARKER
    if not marker.is_file():
        return None
    lines = marker.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry(entry: Path, target: Path) -> None:
    if entry.is_symlink():
        target.symlink_to(entry.readlink())
    elif entry.is_dir():
        shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(entry), str(target))


def write_output_dir(out: Path, files: Mapping[str, str], *, force: bool = False) -> Path:
    """Replace ``out`` with ``files`` (name -> text) plus the marker, atomically.

    Refuses a non-empty directory without the marker unless ``force``; with
    ``force``, files of the same names are replaced and every other file is kept.
    """
    for name in files:
        if not name or "/" in name or name in (".", "..", MARKER):
            raise ValueError(f"not a plain file name: {name!r}")
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory", hint="choose another --out path")
    existing = sorted(out.iterdir()) if out.is_dir() else []
    owned = _owned(out) if existing else set()
    if owned is None and not force:
        raise OutputError(
            f"{out} is not empty and was not written by ztflows (no {MARKER} file)",
            hint="choose an empty or new directory, or pass --force to write into it"
            " (files of the same names are replaced, others are kept)",
        )
    owned = owned or set()
    clashes = sorted(e.name for e in existing if e.name in files and e.name not in owned)
    if clashes and not force:
        raise OutputError(
            f"{out} holds files ztflows would replace but did not write: {', '.join(clashes)}",
            hint="rename or move them, or pass --force to replace them",
        )

    try:
        _swap_in(out, files, existing, owned)
    except OSError as exc:
        raise OutputError(
            f"cannot write {out}: {exc.strerror or exc}",
            hint="check the path, its permissions and the free space",
        ) from None
    return out


def _swap_in(out: Path, files: Mapping[str, str], existing: list[Path], owned: set[str]) -> None:
    with atomic_dir(out, replace=True) as tmp:
        for name, text in sorted(files.items()):
            create_file(tmp / name, text)
        create_file(tmp / MARKER, marker_text(files))
        for entry in existing:
            if entry.name in owned or entry.name in files or entry.name == MARKER:
                continue
            _carry(entry, tmp / entry.name)
