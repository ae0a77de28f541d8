"""Reading an attribute's value with python-hcl2: a literal, a reference, or neither.

Only what a rule needs is understood: strings, numbers, booleans, null, tuples and
objects of those, and references (``aws_security_group.api.id``,
``module.sg.security_group_id``, ``local.x``). Anything else — a function call, a
conditional, a template with interpolation — is :class:`Opaque`: it is never guessed at,
and whatever depends on it is left for a person to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import hcl2

from zt_flows.tfrepo.scan import tokenize


@dataclass(frozen=True)
class Reference:
    """A traversal such as ``aws_security_group.api[0].id``, as written."""

    text: str

    @property
    def parts(self) -> tuple[str | int, ...]:
        return _traversal_parts(self.text) or ()


@dataclass(frozen=True)
class Opaque:
    """An expression that is neither a literal nor a plain reference."""

    text: str


Value = (
    str | int | float | bool | None | Reference | Opaque | tuple["Value", ...] | dict[str, "Value"]
)

_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_TRAVERSAL = re.compile(
    r'^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[(?:[0-9]+|"[^"\\$%]*")\])*$'
)


def decode_string(raw: str) -> str | None:
    """The text of a quoted HCL string literal; None if it holds an interpolation."""
    if len(raw) < 2 or not (raw.startswith('"') and raw.endswith('"')):
        return None
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            marker = body[i + 1]
            if marker in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[marker])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(marker)
            if width is None:
                return None
            digits = body[i + 2 : i + 2 + width]
            try:
                out.append(chr(int(digits, 16)))
            except ValueError:
                return None
            i += 2 + width
        elif ch in "$%" and body.startswith(ch + ch + "{", i):
            out.append(ch + "{")
            i += 3
        elif ch in "$%" and body.startswith(ch + "{", i):
            return None
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _traversal_parts(text: str) -> tuple[str | int, ...] | None:
    if not _TRAVERSAL.match(text):
        return None
    parts: list[str | int] = []
    for match in re.finditer(r'([A-Za-z_][A-Za-z0-9_-]*)|\[([0-9]+)\]|\["([^"]*)"\]', text):
        name, index, key = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(key)
    return tuple(parts)


def _convert(value: object) -> Value:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            inner = value[2:-1].strip()
            if _traversal_parts(inner) is not None and inner not in ("true", "false", "null"):
                return Reference(inner)
            return Opaque(inner)
        decoded = decode_string(value)
        return decoded if decoded is not None else Opaque(value)
    if isinstance(value, list):
        return tuple(_convert(v) for v in value)
    if isinstance(value, dict):
        out: dict[str, Value] = {}
        for key, v in value.items():
            if key.startswith("__"):
                continue
            name = decode_string(key) if key.startswith('"') else key
            if name is None:
                return Opaque(str(value))
            out[name] = _convert(v)
        return out
    return Opaque(str(value))


def read_value(expression: str) -> Value:
    """The value of one HCL expression (the text after ``=``)."""
    toks = [t for t in tokenize(expression) if t.kind not in ("comment", "newline")]
    if len(toks) == 1 and toks[0].kind == "string":
        decoded = decode_string(toks[0].text)
        return decoded if decoded is not None else Opaque(expression)
    if len(toks) == 1 and toks[0].kind == "heredoc":
        return Opaque(expression)
    text = "".join(expression.split("\n")) if len(toks) == 1 else expression
    parsed = hcl2.loads(f"v = {text}\n")
    return _convert(parsed.get("v"))
