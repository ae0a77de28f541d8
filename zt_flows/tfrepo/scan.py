"""Where things are in a ``.tf`` file: blocks, attributes and collection elements, by offset.

python-hcl2 reads values but keeps no positions, and an edit in place needs them: the
first and last character of a block, of an attribute, of one element of a list. This
scanner knows just enough of the HCL native syntax to find those boundaries — comments
(``#``, ``//``, ``/* */``), quoted templates with nested ``${ }`` and ``%{ }``, heredocs,
brackets, and the rule that a newline ends an attribute outside brackets
(https://github.com/hashicorp/hcl/blob/main/hclsyntax/spec.md). It evaluates nothing;
:mod:`zt_flows.tfrepo.values` reads values with python-hcl2.

Offsets are indexes into the file's text (``str``), never bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["ident", "string", "heredoc", "number", "punct", "newline", "comment"]

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(")]}")
_TWO_CHAR = frozenset({"==", "!=", "<=", ">=", "&&", "||", "=>"})
# A line ending in one of these continues on the next (python-hcl2 and Terraform agree).
_CONTINUES = frozenset({"?", ":", "+", "-", "*", "/", "%", "&&", "||", "==", "!=", "<", ">"})


class ScanError(Exception):
    """The text is not HCL this scanner can follow; ``offset`` says where."""

    def __init__(self, offset: int, expected: str, found: str) -> None:
        super().__init__(f"expected {expected}, found {found}")
        self.offset = offset
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    start: int
    end: int
    text: str


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_ident_part(ch: str) -> bool:
    return ch.isalnum() or ch in "_-"


class _Lexer:
    def __init__(self, text: str, start: int = 0, end: int | None = None) -> None:
        self.text = text
        self.pos = start
        self.end = len(text) if end is None else end

    def _peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < self.end else ""

    def tokens(self) -> Iterator[Token]:
        text = self.text
        while self.pos < self.end:
            ch = text[self.pos]
            start = self.pos
            if ch in " \t\r\ufeff":
                self.pos += 1
            elif ch == "\n":
                self.pos += 1
                yield Token("newline", start, self.pos, "\n")
            elif ch == "#" or text.startswith("//", self.pos):
                stop = text.find("\n", self.pos, self.end)
                self.pos = self.end if stop < 0 else stop
                yield Token("comment", start, self.pos, text[start : self.pos])
            elif text.startswith("/*", self.pos):
                stop = text.find("*/", self.pos + 2, self.end)
                if stop < 0:
                    raise ScanError(start, "the end of a /* comment */", "the end of the file")
                self.pos = stop + 2
                yield Token("comment", start, self.pos, text[start : self.pos])
            elif ch == '"':
                self.pos = self._string_end(self.pos)
                yield Token("string", start, self.pos, text[start : self.pos])
            elif text.startswith("<<", self.pos) and self._heredoc_marker() is not None:
                self.pos = self._heredoc_end()
                yield Token("heredoc", start, self.pos, text[start : self.pos])
            elif ch.isdigit():
                self.pos = self._number_end()
                yield Token("number", start, self.pos, text[start : self.pos])
            elif _is_ident_start(ch):
                self.pos += 1
                while self.pos < self.end and _is_ident_part(text[self.pos]):
                    self.pos += 1
                yield Token("ident", start, self.pos, text[start : self.pos])
            else:
                if text.startswith("...", self.pos):
                    width = 3
                elif text[self.pos : self.pos + 2] in _TWO_CHAR:
                    width = 2
                else:
                    width = 1
                self.pos += width
                yield Token("punct", start, self.pos, text[start : self.pos])

    def _number_end(self) -> int:
        text, i = self.text, self.pos
        while i < self.end and (text[i].isdigit() or text[i] == "."):
            i += 1
        if i < self.end and text[i] in "eE":
            i += 1
            if i < self.end and text[i] in "+-":
                i += 1
            while i < self.end and text[i].isdigit():
                i += 1
        return i

    def _string_end(self, i: int) -> int:
        """Index after the closing quote of the quoted template opening at ``i``."""
        text = self.text
        i += 1
        while i < self.end:
            ch = text[i]
            if ch == "\\":
                i += 2
            elif ch == '"':
                return i + 1
            elif ch == "\n":
                raise ScanError(i, 'a closing " before the end of the line', "a newline")
            elif ch in "$%" and text.startswith(ch + ch + "{", i):
                i += 3  # $${ and %%{ are literal text
            elif ch in "$%" and text.startswith(ch + "{", i):
                i = self._template_end(i + 2)
            else:
                i += 1
        raise ScanError(i, 'a closing "', "the end of the file")

    def _template_end(self, i: int) -> int:
        """Index after the ``}`` closing an interpolation whose body starts at ``i``."""
        depth = 0
        text = self.text
        while i < self.end:
            ch = text[i]
            if ch == '"':
                i = self._string_end(i)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    if ch != "}":
                        raise ScanError(i, "} closing ${", repr(ch))
                    return i + 1
                depth -= 1
            i += 1
        raise ScanError(i, "} closing ${", "the end of the file")

    def _heredoc_marker(self) -> tuple[str, int] | None:
        """(marker, index after its line) for a heredoc opening at pos, else None."""
        text = self.text
        i = self.pos + 2
        if i < self.end and text[i] == "-":
            i += 1
        j = i
        while j < self.end and _is_ident_part(text[j]):
            j += 1
        if j == i or not _is_ident_start(text[i]):
            return None
        k = j
        while k < self.end and text[k] in " \t\r":
            k += 1
        if k >= self.end or text[k] != "\n":
            return None
        return text[i:j], k + 1

    def _heredoc_end(self) -> int:
        found = self._heredoc_marker()
        assert found is not None
        marker, i = found
        text = self.text
        while i < self.end:
            stop = text.find("\n", i, self.end)
            line_end = self.end if stop < 0 else stop
            if text[i:line_end].strip() == marker:
                return line_end
            i = line_end + 1
        raise ScanError(self.pos, f"the heredoc's closing {marker}", "the end of the file")


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    return list(_Lexer(text, start, end).tokens())


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class Attribute:
    """``name = expression``: ``start``..``end`` from the name to the end of the expression."""

    name: str
    start: int
    end: int
    expr_start: int
    expr_end: int
    line_start: int  # start of the line the name is on
    line_end: int  # after the newline that ends the expression's last line

    @property
    def is_block(self) -> bool:
        return False


@dataclass(frozen=True)
class Block:
    """``type "label" ... { items }``: ``start`` at the type, ``end`` after the ``}``."""

    type: str
    labels: tuple[str, ...]
    start: int
    end: int
    open_brace: int
    close_brace: int
    line_start: int
    line_end: int
    items: tuple[Attribute | Block, ...]

    @property
    def is_block(self) -> bool:
        return True

    def attribute(self, name: str) -> Attribute | None:
        return next((i for i in self.items if isinstance(i, Attribute) and i.name == name), None)

    def blocks(self, type_: str | None = None) -> tuple[Block, ...]:
        return tuple(
            i for i in self.items if isinstance(i, Block) and (type_ is None or i.type == type_)
        )


@dataclass(frozen=True)
class Document:
    text: str
    items: tuple[Attribute | Block, ...]

    def blocks(self, type_: str | None = None) -> tuple[Block, ...]:
        return tuple(
            i for i in self.items if isinstance(i, Block) and (type_ is None or i.type == type_)
        )


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    """After the newline ending the line that ``offset`` is on (or the end of the text)."""
    stop = text.find("\n", offset)
    return len(text) if stop < 0 else stop + 1


def label_text(token: Token) -> str:
    """A block label: an identifier, or a quoted string without templates."""
    if token.kind == "ident":
        return token.text
    body = token.text[1:-1]
    if "\\" in body or "${" in body or "%{" in body:
        from zt_flows.tfrepo.values import decode_string

        decoded = decode_string(token.text)
        if decoded is None:
            raise ScanError(token.start, "a block label without interpolation", token.text)
        return decoded
    return body


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = [t for t in tokenize(text) if t.kind != "comment"]
        self.i = 0

    def _tok(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _found(self) -> str:
        tok = self._tok()
        return "the end of the file" if tok is None else repr(tok.text)

    def body(self, closing: bool) -> tuple[Attribute | Block, ...]:
        items: list[Attribute | Block] = []
        while True:
            tok = self._tok()
            while tok is not None and tok.kind == "newline":
                self.i += 1
                tok = self._tok()
            if tok is None:
                if closing:
                    raise ScanError(len(self.text), "} closing the block", "the end of the file")
                return tuple(items)
            if tok.kind == "punct" and tok.text == "}" and closing:
                return tuple(items)
            if tok.kind != "ident":
                raise ScanError(tok.start, "an attribute or block name", repr(tok.text))
            items.append(self._item(tok, closing))

    def _item(self, name: Token, closing: bool) -> Attribute | Block:
        self.i += 1
        tok = self._tok()
        if tok is not None and tok.kind == "punct" and tok.text in ("=", ":"):
            self.i += 1
            return self._attribute(name, closing)
        labels: list[str] = []
        while tok is not None and tok.kind in ("string", "ident"):
            labels.append(label_text(tok))
            self.i += 1
            tok = self._tok()
        if tok is None or tok.text != "{":
            raise ScanError(
                tok.start if tok else len(self.text),
                f"= or {{ after {name.text!r}",
                self._found(),
            )
        open_brace = tok.start
        self.i += 1
        items = self.body(closing=True)
        close = self._tok()
        assert close is not None
        self.i += 1
        after = self._tok()
        if after is not None and after.kind != "newline" and not (closing and after.text == "}"):
            raise ScanError(after.start, "a newline after }", repr(after.text))
        return Block(
            type=name.text,
            labels=tuple(labels),
            start=name.start,
            end=close.end,
            open_brace=open_brace,
            close_brace=close.start,
            line_start=_line_start(self.text, name.start),
            line_end=_line_end(self.text, close.end - 1),
            items=items,
        )

    def _attribute(self, name: Token, closing: bool) -> Attribute:
        stack: list[str] = []
        first: Token | None = None
        last: Token | None = None
        while True:
            tok = self._tok()
            if tok is None:
                break
            if tok.kind == "newline" and not stack:
                if last is not None and not (last.kind == "punct" and last.text in _CONTINUES):
                    break
                self.i += 1
                continue
            if tok.kind == "punct":
                if tok.text in _OPENERS:
                    stack.append(_OPENERS[tok.text])
                elif tok.text in _CLOSERS:
                    if not stack:
                        if closing and tok.text == "}":
                            break  # a one-line block: `ingress { from_port = 22 }`
                        raise ScanError(tok.start, "an expression", repr(tok.text))
                    expected = stack.pop()
                    if tok.text != expected:
                        raise ScanError(tok.start, repr(expected), repr(tok.text))
            if tok.kind != "newline":
                first = first or tok
                last = tok
            self.i += 1
        if first is None or last is None:
            raise ScanError(name.end, f"a value for {name.text!r}", self._found())
        if stack:
            raise ScanError(len(self.text), repr(stack[-1]), "the end of the file")
        return Attribute(
            name=name.text,
            start=name.start,
            end=last.end,
            expr_start=first.start,
            expr_end=last.end,
            line_start=_line_start(self.text, name.start),
            line_end=_line_end(self.text, last.end - 1),
        )


def scan(text: str) -> Document:
    """The top-level blocks and attributes of ``text``; raises ScanError on bad syntax."""
    parser = _Parser(text)
    return Document(text=text, items=parser.body(closing=False))


def walk(items: tuple[Attribute | Block, ...]) -> Iterator[Block]:
    for item in items:
        if isinstance(item, Block):
            yield item
            yield from walk(item.items)


# --------------------------------------------------------------------------- collections


@dataclass(frozen=True)
class Element:
    """One element of a tuple, or one ``key = value`` of an object, in an expression."""

    start: int
    end: int
    key: str | None = None  # objects only: the key as written (quotes removed)
    value_start: int = 0
    value_end: int = 0


@dataclass(frozen=True)
class Collection:
    kind: Literal["tuple", "object"]
    open: int  # offset of [ or {
    close: int  # offset of ] or }
    elements: tuple[Element, ...]
    multiline: bool


def collection(text: str, start: int, end: int) -> Collection | None:
    """The tuple ``[...]`` or object ``{...}`` literal spanning ``start``..``end``, or None.

    None when the expression is anything else (a reference, a function call, a ``for``
    expression): only literals are edited.
    """
    toks = [t for t in tokenize(text, start, end) if t.kind != "comment"]
    if len(toks) < 2 or toks[0].text not in ("[", "{") or toks[-1].text != _OPENERS[toks[0].text]:
        return None
    kind: Literal["tuple", "object"] = "tuple" if toks[0].text == "[" else "object"
    inner = toks[1:-1]
    if inner and inner[0].kind == "ident" and inner[0].text == "for":
        return None
    elements: list[Element] = []
    depth = 0
    current: list[Token] = []

    def flush() -> None:
        significant = [t for t in current if t.kind != "newline"]
        current.clear()
        if not significant:
            return
        key = None
        value_start, value_end = significant[0].start, significant[-1].end
        if kind == "object":
            eq = next(
                (n for n, t in enumerate(significant) if t.kind == "punct" and t.text in "=:"),
                None,
            )
            if eq is None or eq == 0:
                raise ScanError(significant[0].start, "key = value", significant[0].text)
            key_tok = significant[0]
            key = label_text(key_tok) if key_tok.kind in ("ident", "string") else key_tok.text
            if eq + 1 >= len(significant):
                raise ScanError(significant[eq].end, "a value", "nothing")
            value_start = significant[eq + 1].start
        elements.append(
            Element(significant[0].start, significant[-1].end, key, value_start, value_end)
        )

    for tok in inner:
        if tok.kind == "punct" and tok.text in _OPENERS:
            depth += 1
        elif tok.kind == "punct" and tok.text in _CLOSERS:
            depth -= 1
        if depth == 0 and (
            (tok.kind == "punct" and tok.text == ",")
            or (kind == "object" and tok.kind == "newline" and _ends_value(current))
        ):
            flush()
            continue
        current.append(tok)
    flush()
    multiline = "\n" in text[toks[0].start : toks[-1].end]
    return Collection(kind, toks[0].start, toks[-1].start, tuple(elements), multiline)


def _ends_value(current: list[Token]) -> bool:
    significant = [t for t in current if t.kind != "newline"]
    return bool(significant) and not (
        significant[-1].kind == "punct" and significant[-1].text in {*_CONTINUES, "=", "{", "["}
    )
