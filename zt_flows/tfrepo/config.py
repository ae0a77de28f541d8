"""A module directory's ``.tf`` files: its resources, module calls, locals and outputs.

Each file is read twice: :mod:`zt_flows.tfrepo.scan` finds where every block is, and
python-hcl2 parses the whole file (so that a syntax error is reported as Terraform would,
with its line and column, before anything is edited). ``.tf.json`` files are listed but
not edited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import hcl2
from lark.exceptions import LarkError, UnexpectedInput

from zt_flows.errors import Location, TerraformConfigError, excerpt
from zt_flows.tfrepo.scan import Attribute, Block, Document, ScanError, line_column, scan
from zt_flows.tfrepo.values import Value, read_value


@dataclass(frozen=True)
class TfFile:
    path: Path
    rel: str  # POSIX path inside the repository
    text: str
    doc: Document

    def where(self, offset: int) -> str:
        line, _ = line_column(self.text, offset)
        return f"{self.rel}:{line}"


@dataclass(frozen=True)
class Declaration:
    """One block (a resource, a module call, an output) and the file it is in."""

    file: TfFile
    block: Block

    @property
    def where(self) -> str:
        return self.file.where(self.block.start)

    def value(self, name: str) -> Value | None:
        attr = self.block.attribute(name)
        return None if attr is None else attribute_value(self.file, attr)

    def has(self, name: str) -> bool:
        return self.block.attribute(name) is not None


def attribute_value(file: TfFile, attr: Attribute) -> Value:
    text = file.text[attr.expr_start : attr.expr_end]
    try:
        return read_value(text)
    except (LarkError, ValueError) as exc:  # python-hcl2 refused an expression the scan took
        line, column = line_column(file.text, attr.expr_start)
        raise TerraformConfigError(
            Location(file.rel, line=line, column=str(column)),
            "an HCL expression",
            excerpt(text) + f" ({type(exc).__name__})",
        ) from None


@dataclass
class ModuleDir:
    """The configuration of one module directory (a root or a local module)."""

    path: Path
    rel: str
    files: list[TfFile] = field(default_factory=list)
    json_files: list[str] = field(default_factory=list)
    resources: dict[str, Declaration] = field(default_factory=dict)  # "type.name"
    modules: dict[str, Declaration] = field(default_factory=dict)  # call name
    outputs: dict[str, Declaration] = field(default_factory=dict)
    locals: dict[str, tuple[TfFile, Attribute]] = field(default_factory=dict)
    imports: list[Declaration] = field(default_factory=list)
    has_backend_or_provider: bool = False

    def resources_of(self, *types: str) -> Iterator[tuple[str, Declaration]]:
        for address, decl in self.resources.items():
            if decl.block.labels[0] in types:
                yield address, decl

    def local_value(self, name: str) -> Value | None:
        found = self.locals.get(name)
        return None if found is None else attribute_value(*found)


def _check_with_hcl2(rel: str, text: str) -> None:
    try:
        hcl2.loads(text)
    except UnexpectedInput as exc:
        raise TerraformConfigError(
            Location(rel, line=exc.line, column=str(exc.column)),
            "valid HCL",
            excerpt(str(exc).strip().splitlines()[0] if str(exc).strip() else "?"),
        ) from None
    except (LarkError, ValueError, RuntimeError) as exc:
        raise TerraformConfigError(
            Location(rel), "valid HCL", excerpt(type(exc).__name__ + ": " + str(exc))
        ) from None


def read_tf_file(path: Path, repo: Path) -> TfFile:
    rel = path.relative_to(repo).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TerraformConfigError(
            Location(rel), "UTF-8 text", f"byte {exc.start}: not UTF-8"
        ) from None
    except OSError as exc:
        raise TerraformConfigError(Location(rel), "a readable file", exc.strerror or "?") from None
    _check_with_hcl2(rel, text)
    try:
        doc = scan(text)
    except ScanError as exc:
        line, column = line_column(text, exc.offset)
        raise TerraformConfigError(
            Location(rel, line=line, column=str(column)), exc.expected, exc.found
        ) from None
    return TfFile(path, rel, text, doc)


def load_module_dir(path: Path, repo: Path) -> ModuleDir:
    """Read every ``.tf`` file of ``path`` (not its subdirectories)."""
    rel = path.relative_to(repo).as_posix() or "."
    module = ModuleDir(path=path, rel=rel)
    for file_path in sorted(path.glob("*.tf")):
        if not file_path.is_file():
            continue
        tf = read_tf_file(file_path, repo)
        module.files.append(tf)
        for block in tf.doc.blocks():
            _declare(module, tf, block)
    module.json_files = sorted(p.name for p in path.glob("*.tf.json"))
    return module


def _declare(module: ModuleDir, tf: TfFile, block: Block) -> None:
    decl = Declaration(tf, block)
    if block.type == "resource" and len(block.labels) == 2:
        module.resources[f"{block.labels[0]}.{block.labels[1]}"] = decl
    elif block.type == "module" and len(block.labels) == 1:
        module.modules[block.labels[0]] = decl
    elif block.type == "output" and len(block.labels) == 1:
        module.outputs[block.labels[0]] = decl
    elif block.type == "import":
        module.imports.append(decl)
    elif block.type == "locals":
        for item in block.items:
            if isinstance(item, Attribute):
                module.locals[item.name] = (tf, item)
    elif block.type == "provider" or (
        block.type == "terraform" and any(b.type in ("backend", "cloud") for b in block.blocks())
    ):
        module.has_backend_or_provider = True


def module_source(call: Declaration) -> str | None:
    value = call.value("source")
    return value if isinstance(value, str) else None


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../"))
