"""Writing HCL by hand, safely: string literals, comments, and `terraform fmt` layout.

Every string that reaches a ``.tf`` file goes through :func:`hcl_string`. Strings
from AWS (group names, descriptions, tags) are untrusted: a description holding
``${file("~/.aws/credentials")}`` must stay text, and a newline in a name must not
end a comment and start a resource. Layout follows ``terraform fmt`` (two-space
indent, ``=`` aligned across consecutive single-line attributes) so the generated
files are already formatted.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from zt_flows.text import INVISIBLE_CATEGORIES, one_line

_SIMPLE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
INDENT = "  "
COMMENT_WIDTH = 100


def _unicode_escape(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        # A lone surrogate (possible in JSON) is not a character; Terraform rejects it.
        return "\\uFFFD"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


def hcl_string(value: str) -> str:
    """``value`` as a quoted HCL string literal that evaluates to exactly ``value``.

    Quoted HCL strings are templates: ``${`` starts an interpolation and ``%{`` a
    directive, so they are written ``$${`` and ``%%{``; backslashes, quotes and
    control characters are escaped.
    """
    out = ['"']
    for i, ch in enumerate(value):
        simple = _SIMPLE.get(ch)
        if simple is not None:
            out.append(simple)
        elif ch in "$%" and value[i + 1 : i + 2] == "{":
            out.append(ch + ch)
        elif unicodedata.category(ch) in INVISIBLE_CATEGORIES:
            # Control and format characters (bidirectional overrides can make a file read
            # differently from what it does), surrogates, private use, unassigned code
            # points and line separators are written as \\uNNNN escapes.
            out.append(_unicode_escape(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def hcl_comment(text: str, width: int = COMMENT_WIDTH) -> list[str]:
    """``#`` comment lines, wrapped; anything that could end a line early becomes a space."""
    body = one_line(text)
    if not body:
        return ["#"]
    return [
        f"# {line}"
        for line in textwrap.wrap(body, width - 2, break_long_words=False, break_on_hyphens=False)
    ]


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Attr:
    """``name = expression``; ``expression`` is already valid HCL (use hcl_string for text)."""

    name: str
    expression: str


@dataclass(frozen=True)
class MapAttr:
    """``name = { key = expression ... }`` written over several lines."""

    name: str
    items: tuple[tuple[str, str], ...]  # (bare key, expression)


@dataclass(frozen=True)
class Comment:
    """``# text`` inside a block (it ends a run of aligned attributes, as in terraform fmt)."""

    text: str


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: tuple[Attr | MapAttr | Block | Comment | None, ...]  # None: a blank line


def _aligned(pairs: Sequence[tuple[str, str]], indent: str) -> list[str]:
    width = max(len(name) for name, _ in pairs)
    return [f"{indent}{name.ljust(width)} = {expr}" for name, expr in pairs]


def _body_lines(body: Sequence[Attr | MapAttr | Block | Comment | None], depth: int) -> list[str]:
    indent = INDENT * depth
    lines: list[str] = []
    run: list[tuple[str, str]] = []  # consecutive one-line attributes share an alignment

    def flush() -> None:
        if run:
            lines.extend(_aligned(run, indent))
            run.clear()

    for item in body:
        if isinstance(item, Attr):
            run.append((item.name, item.expression))
            continue
        flush()
        if item is None:
            lines.append("")
        elif isinstance(item, Comment):
            lines.extend(
                indent + line for line in hcl_comment(item.text, COMMENT_WIDTH - len(indent))
            )
        elif isinstance(item, MapAttr):
            lines.append(f"{indent}{item.name} = {{")
            if item.items:
                lines.extend(_aligned(item.items, indent + INDENT))
            lines.append(f"{indent}}}")
        else:
            lines.extend(block_lines(item, depth))
    flush()
    return lines


def block_lines(block: Block, depth: int = 0) -> list[str]:
    """The lines of ``block`` as ``terraform fmt`` would lay them out."""
    indent = INDENT * depth
    labels = "".join(f" {hcl_string(label)}" for label in block.labels)
    return [
        f"{indent}{block.type}{labels} {{",
        *_body_lines(block.body, depth + 1),
        f"{indent}}}",
    ]


def render_file(chunks: Sequence[Sequence[str]]) -> str:
    """Top-level chunks (comment lines + a block) separated by one blank line."""
    text = "\n\n".join("\n".join(chunk) for chunk in chunks if chunk)
    return text + "\n"
