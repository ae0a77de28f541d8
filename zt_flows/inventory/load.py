"""Reading snapshot folders from disk into an :class:`Inventory`.

Accepts a snapshot folder (flat or nested by account and region, see ``snapshot_files``), a
folder of snapshot folders, or several of either. A hand-made folder of
``aws ec2 describe-… > describe-….json`` files is a snapshot too: it needs no
manifest, and any subset of the documents loads (what is absent is reported).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from zt_flows.errors import InventoryFormatError, Location
from zt_flows.inventory import snapshot_files
from zt_flows.inventory._doc import Node
from zt_flows.inventory.model import Inventory, Snapshot
from zt_flows.inventory.parse import combine_parts, parse_snapshot


@dataclass(frozen=True)
class Manifest:
    taken_at: datetime
    account_ids: tuple[str, ...]
    regions: tuple[str, ...]


def load_inventory(paths: Path | str | Sequence[Path | str]) -> Inventory:
    """Every snapshot under ``paths``, merged (latest wins) and kept for time-aware lookups."""
    roots = [paths] if isinstance(paths, str | Path) else list(paths)
    snapshots = [snap for root in roots for snap in _snapshots_under(Path(root))]
    return Inventory.from_snapshots(snapshots)


def load_snapshot(folder: Path) -> Snapshot:
    """One snapshot folder."""
    manifest_path = folder / snapshot_files.MANIFEST
    manifest = read_manifest(manifest_path) if manifest_path.is_file() else None
    taken_at = manifest.taken_at if manifest else _guess_taken_at(folder)
    parts = _parts(folder)
    flat = _document_files(folder)
    if not parts:
        only = _single(manifest)
        return parse_snapshot(
            _read_documents(flat),
            source=str(folder),
            taken_at=taken_at,
            account_id=only[0],
            region=only[1],
        )
    snapshots: list[tuple[str, Snapshot]] = []
    if flat:
        snapshots.append(
            (".", parse_snapshot(_read_documents(flat), source=str(folder), taken_at=taken_at))
        )
    for account, region, part in parts:
        docs = _read_documents(_document_files(part))
        snap = parse_snapshot(
            docs, source=str(part), taken_at=taken_at, account_id=account, region=region
        )
        snapshots.append((f"{account}/{region}", snap))
    return combine_parts(
        snapshots,
        source=str(folder),
        taken_at=taken_at,
        account_ids=manifest.account_ids if manifest else (),
        regions=manifest.regions if manifest else (),
    )


def read_manifest(path: Path) -> Manifest:
    node = Node(read_json(path), str(path))
    version = node.child("schema_version", "1")
    if version.value != snapshot_files.SCHEMA_VERSION:
        raise version.error(
            f"{snapshot_files.SCHEMA_VERSION} (the manifest version this ztflows reads)"
        )
    return Manifest(
        taken_at=node.child("taken_at", "a time such as 2026-11-16T00:00:00Z").time(),
        account_ids=tuple(item.string() for item in node.req_list("account_ids")),
        regions=tuple(item.string() for item in node.req_list("regions")),
    )


def read_json(path: Path) -> object:
    """A JSON file as the AWS CLI writes it (UTF-8; UTF-16 when PowerShell redirected it)."""
    raw = path.read_bytes()
    encoding = "utf-16" if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InventoryFormatError(
            Location(str(path)), "UTF-8 text", f"an undecodable byte at offset {exc.start}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryFormatError(
            Location(str(path), line=exc.lineno), "valid JSON", f"{exc.msg} at column {exc.colno}"
        ) from None


# --------------------------------------------------------------------------- discovery


def _snapshots_under(path: Path) -> list[Snapshot]:
    if not path.exists():
        raise InventoryFormatError(
            Location(str(path)), "an inventory snapshot folder", "no such file or folder"
        )
    if not path.is_dir():
        raise InventoryFormatError(
            Location(str(path)),
            "an inventory snapshot folder (describe-*.json files)",
            "a file",
            hint="pass the folder that holds the describe-*.json files",
        )
    if _is_snapshot(path):
        return [load_snapshot(path)]
    found = [
        load_snapshot(child)
        for child in sorted(path.iterdir())
        if child.is_dir() and not child.name.startswith(".") and _is_snapshot(child)
    ]
    if not found:
        raise InventoryFormatError(
            Location(str(path)),
            "describe-*.json files, a manifest.json, or snapshot folders holding them",
            "none",
            hint="collect one with `ztflows inventory collect --out DIR`",
        )
    return found


def _is_snapshot(folder: Path) -> bool:
    return (
        (folder / snapshot_files.MANIFEST).is_file()
        or bool(_document_files(folder))
        or bool(_parts(folder))
    )


def _document_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and snapshot_files.is_document(p.name))


def _parts(folder: Path) -> list[tuple[str, str, Path]]:
    """The ``<account>/<region>`` sub-folders of a nested snapshot that hold documents."""
    parts = []
    for account in sorted(folder.iterdir()):
        if not (account.is_dir() and snapshot_files.ACCOUNT_DIR.match(account.name)):
            continue
        for region in sorted(account.iterdir()):
            if (
                region.is_dir()
                and snapshot_files.REGION_DIR.match(region.name)
                and _document_files(region)
            ):
                parts.append((account.name, region.name, region))
    return parts


def _read_documents(files: Sequence[Path]) -> dict[str, object]:
    return {path.name: read_json(path) for path in files}


def _single(manifest: Manifest | None) -> tuple[str | None, str | None]:
    if manifest is None:
        return None, None
    account = manifest.account_ids[0] if len(manifest.account_ids) == 1 else None
    region = manifest.regions[0] if len(manifest.regions) == 1 else None
    return account, region


def _guess_taken_at(folder: Path) -> datetime:
    """Without a manifest: the time the folder's name states, else when its files were written."""
    named = snapshot_files.parse_folder_time(folder.name)
    if named is not None:
        return named
    files = _document_files(folder) or [folder]
    newest = max(path.stat().st_mtime for path in files)
    return datetime.fromtimestamp(int(newest), UTC)
