"""Output folders: written all at once, and only over what ztflows wrote before.

A command's outputs are written into a staging folder beside ``--out`` and swapped in with
renames when every one of them is written (:func:`staged_output_dir`), so an interruption,
a full disk or a failed step leaves the previous outputs whole, never a mix of two runs. A
manifest (:data:`MARKER`) lists what ztflows wrote; files it did not write (a
``backend.tf``, ``.terraform/``, notes of the user's) are carried into the new folder
unchanged, as hard links where the file system allows, and are never replaced: a folder
that holds files of the names ztflows writes, but not written by it, is refused before any
work. A sub-folder with a manifest of its own (``terraform/`` in ``analyze``'s outputs)
keeps the user's files the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

from zt_flows.atomic import atomic_dir, create_file
from zt_flows.errors import OutputError

MARKER = ".ztflows-output"
_MARKER_HEADER = (
    "# Written by ztflows. The files listed below are replaced on every run;\n"
    "# other files in this directory are kept as they are.\n"
)


def marker_text(names: Collection[str]) -> str:
    return _MARKER_HEADER + "".join(f"{name}\n" for name in sorted(names))


def _owned(out: Path) -> set[str] | None:
    """The entries ztflows wrote into ``out`` last time, or None without a manifest."""
    marker = out / MARKER
    if not marker.is_file():
        return None
    lines = marker.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def check_output_dir(
    out: Path,
    names: Collection[str],
    *,
    option: str = "--out",
    force_option: str | None = None,
    force: bool = False,
) -> None:
    """Refuse ``out`` (exit 2) if writing ``names`` into it would replace what ztflows did not
    write: a non-empty folder without a manifest, or files of those names the manifest does
    not list. ``force_option`` is the option that overrides the refusal, when the command
    has one (the hint never names an option the command does not have)."""
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"{out} ({option}) exists and is not a folder", hint=f"choose another {option}"
        )
    if force or not out.is_dir():
        return
    existing = sorted(e.name for e in out.iterdir())
    if not existing:
        return
    owned = _owned(out)
    override = f", or pass {force_option} to write into it" if force_option else ""
    if owned is None:
        raise OutputError(
            f"{out} ({option}) is not empty and was not written by ztflows (no {MARKER} file)",
            hint=f"choose an empty or new folder{override}; ztflows never replaces files it"
            " did not write",
        )
    clashes = sorted(n for n in existing if n in names and n not in owned)
    if clashes:
        replace = f", or pass {force_option} to replace them" if force_option else ""
        raise OutputError(
            f"{out} ({option}) holds files ztflows would replace but did not write:"
            f" {', '.join(clashes)}",
            hint=f"rename or move them{replace}",
        )


@contextlib.contextmanager
def staged_output_dir(
    out: Path,
    names: Collection[str],
    *,
    option: str = "--out",
    force_option: str | None = None,
    force: bool = False,
) -> Iterator[Path]:
    """A staging folder beside ``out`` for the outputs; swapped in for ``out`` when the block
    succeeds, with a manifest of what was written and the user's files carried over.

    ``names``: every entry the command may write (checked before the block and again at
    the end, since the folder may change meanwhile). On any exception, OSError included,
    the staging folder is removed and ``out`` is left as it was.
    """
    check_output_dir(out, names, option=option, force_option=force_option, force=force)
    out = out.absolute()
    try:
        with atomic_dir(out, replace=True) as staging:
            yield staging
            written = sorted(e.name for e in staging.iterdir())
            unexpected = [n for n in written if n not in names]
            if unexpected:
                raise ValueError(f"outputs not declared for {out}: {unexpected}")
            check_output_dir(out, written, option=option, force_option=force_option, force=force)
            create_file(staging / MARKER, marker_text(written))
            if out.is_dir():
                _carry_user_files(out, staging, _owned(out) or set())
    except OSError as exc:
        raise OutputError(
            f"cannot write {out} ({option}): {exc.strerror or exc}",
            hint="check the path, its permissions and the free space; the previous outputs"
            " are left as they were",
        ) from None


def write_output_dir(
    out: Path,
    files: Mapping[str, str],
    *,
    option: str = "--out",
    force_option: str | None = "--force",
    force: bool = False,
) -> Path:
    """Replace ``out`` with ``files`` (name -> text) plus the manifest, atomically.

    Refuses a non-empty folder without the manifest unless ``force``; with ``force``,
    files of the same names are replaced and every other file is kept.
    """
    for name in files:
        if not name or "/" in name or name in (".", "..", MARKER):
            raise ValueError(f"not a plain file name: {name!r}")
    with staged_output_dir(
        out, files, option=option, force_option=force_option, force=force
    ) as staging:
        for name, text in sorted(files.items()):
            create_file(staging / name, text)
    return out.absolute()


def _carry_user_files(old: Path, new: Path, owned: set[str]) -> None:
    """Bring what the user put into ``old`` into ``new``: entries ztflows did not write, and
    inside a sub-folder ztflows wrote with a manifest of its own, the same recursively."""
    for entry in sorted(old.iterdir()):
        name = entry.name
        if name == MARKER:
            continue
        target = new / name
        if name in owned:
            if entry.is_dir() and target.is_dir() and (inner := _owned(entry)) is not None:
                _carry_user_files(entry, target, inner)
            continue
        if target.exists() or target.is_symlink():
            continue  # written now under a name the user's file had: checked above (force)
        _carry(entry, target)


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


__all__ = ["MARKER", "check_output_dir", "staged_output_dir", "write_output_dir"]
