"""Finding the Terraform root modules of a repository, and the modules each one calls.

A directory holding ``.tf`` files is a root unless another directory of the repository
calls it as a local module (``source = "./…"`` or ``"../…"``). Directories Terraform
and git keep for themselves (``.terraform``, ``.git``), hidden directories, and the
directories ztflows writes its standalone module into (they hold the marker file) are
skipped: the latter are regenerated, never edited.

A module call is resolved to a directory when its source is local, or, for a registry
or git source, when the root has been initialised (``.terraform/modules/modules.json``
records where ``terraform init`` put it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from zt_flows.tfrepo.config import (
    Declaration,
    ModuleDir,
    is_local_source,
    load_module_dir,
    module_source,
)
from zt_flows.tfrepo.model import TerraformRoot

MARKER = ".ztflows-output"
_SKIP = frozenset({".git", ".terraform", "node_modules", "__pycache__"})
COMMUNITY_SOURCES = (
    "terraform-aws-modules/security-group/aws",
    "github.com/terraform-aws-modules/terraform-aws-security-group",
    "git::https://github.com/terraform-aws-modules/terraform-aws-security-group",
)
# What identifies the terraform-aws-modules/security-group module by its shape, whatever
# its source: the inputs ztflows edits and the resources they create.
COMMUNITY_VARIABLES = frozenset(
    {"ingress_with_source_security_group_id", "ingress_rules", "ingress_cidr_blocks"}
)
COMMUNITY_RESOURCES = frozenset(
    {
        "aws_security_group_rule.ingress_with_source_security_group_id",
        "aws_security_group_rule.ingress_rules",
    }
)


@dataclass
class ModuleNode:
    """One module call (or the root): its configuration, where known, and its callees."""

    path: str  # "" for the root, "module.a.module.b" below it (no instance keys)
    config: ModuleDir | None  # None: the source is not in the repository nor initialised
    call: Declaration | None  # the module block calling it (None for the root)
    source: str | None
    community: bool = False  # terraform-aws-modules/security-group, by source or shape
    children: dict[str, ModuleNode] = field(default_factory=dict)

    def walk(self) -> Iterator[ModuleNode]:
        yield self
        for child in self.children.values():
            yield from child.walk()

    def find(self, path: str) -> ModuleNode | None:
        return next((n for n in self.walk() if n.path == path), None)


@dataclass
class Root:
    root: TerraformRoot
    tree: ModuleNode
    calls: dict[Path, int] = field(default_factory=dict)  # module dir -> times called

    @property
    def config(self) -> ModuleDir:
        assert self.tree.config is not None
        return self.tree.config


def _tf_dirs(repo: Path) -> Iterator[Path]:
    for current, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        if any(f.endswith(".tf") for f in files):
            yield Path(current)


def _is_community(config: ModuleDir | None, source: str | None) -> bool:
    if config is not None:
        variables = {
            name for f in config.files for b in f.doc.blocks("variable") for name in b.labels[:1]
        }
        return variables >= COMMUNITY_VARIABLES and set(config.resources) >= COMMUNITY_RESOURCES
    return source is not None and source.split("?")[0].rstrip("/").endswith(COMMUNITY_SOURCES)


def _initialised_modules(root: Path) -> dict[str, Path]:
    """module key ("a.b") -> directory, from the root's .terraform/modules/modules.json."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    out: dict[str, Path] = {}
    for entry in doc.get("Modules") or ():
        key, directory = entry.get("Key"), entry.get("Dir")
        if isinstance(key, str) and key and isinstance(directory, str):
            out[key] = (root / directory).resolve()
    return out


class _Loader:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.cache: dict[Path, ModuleDir] = {}

    def load(self, path: Path) -> ModuleDir | None:
        path = path.resolve()
        if path not in self.cache:
            if not path.is_dir():
                return None
            try:
                path.relative_to(self.repo)
            except ValueError:
                base = path  # outside the repository: an initialised registry module
                module = load_module_dir(path, base.parent)
                module.rel = str(path)
                self.cache[path] = module
                return module
            self.cache[path] = load_module_dir(path, self.repo)
        return self.cache[path]


def _build_tree(
    loader: _Loader,
    node: ModuleNode,
    initialised: dict[str, Path],
    key: str,
    calls: dict[Path, int],
    depth: int = 0,
) -> None:
    if node.config is None or depth > 20:
        return
    for name, call in sorted(node.config.modules.items()):
        source = module_source(call)
        child_key = f"{key}.{name}" if key else name
        directory: Path | None = None
        if source is not None and is_local_source(source):
            directory = (node.config.path / source).resolve()
        elif child_key in initialised:
            directory = initialised[child_key]
        config = loader.load(directory) if directory is not None else None
        if directory is not None and config is not None:
            repeated = call.has("count") or call.has("for_each")
            calls[directory.resolve()] = calls.get(directory.resolve(), 0) + (2 if repeated else 1)
        path = f"{node.path}.module.{name}" if node.path else f"module.{name}"
        child = ModuleNode(
            path=path,
            config=config,
            call=call,
            source=source,
            community=_is_community(config, source),
        )
        node.children[name] = child
        if not child.community:
            _build_tree(loader, child, initialised, child_key, calls, depth + 1)


def discover_roots(
    repo: Path, *, initialised_in: Path | None = None, skip: tuple[str, ...] = ()
) -> list[Root]:
    """Every root module of ``repo`` (a git work tree), with its module tree.

    ``initialised_in`` is the checkout where the roots were initialised (their
    ``.terraform`` directories), when ``repo`` is another work tree of the same
    repository; ``skip`` lists repository paths that are not the team's (ztflows's own
    output directory).
    """
    repo = repo.resolve()
    loader = _Loader(repo)
    skipped = {(repo / s).resolve() for s in skip}
    dirs = [
        d.resolve()
        for d in _tf_dirs(repo)
        if not (d / MARKER).exists() and d.resolve() not in skipped
    ]
    called: set[Path] = set()
    for directory in dirs:
        config = loader.load(directory)
        if config is None:
            continue
        for call in config.modules.values():
            source = module_source(call)
            if source is not None and is_local_source(source):
                called.add((directory / source).resolve())
    roots: list[Root] = []
    for directory in dirs:
        if directory in called:
            continue
        config = loader.load(directory)
        assert config is not None
        rel = directory.relative_to(repo).as_posix() or "."
        tree = ModuleNode(path="", config=config, call=None, source=None)
        calls: dict[Path, int] = {}
        where = (initialised_in.resolve() / rel) if initialised_in is not None else directory
        _build_tree(loader, tree, _initialised_modules(where), "", calls)
        roots.append(Root(TerraformRoot(directory, rel), tree, calls))
    return roots


def manages_security_groups(root: Root) -> bool:
    """Whether the root could hold security groups or rules in its state.

    True when it (or a module it calls) declares one of the security-group resource
    types, or calls a module ztflows cannot see into: only then is its state read.
    """
    for node in root.tree.walk():
        if node.community:
            return True
        if node.config is None:
            return True
        if any(
            True
            for _ in node.config.resources_of(
                "aws_security_group",
                "aws_default_security_group",
                "aws_security_group_rule",
                "aws_vpc_security_group_ingress_rule",
                "aws_vpc_security_group_egress_rule",
            )
        ):
            return True
    return False
