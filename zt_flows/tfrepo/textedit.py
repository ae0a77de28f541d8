"""Edits to a file's text: spans replaced, everything else left byte for byte.

An edit belongs to one or both phases of the rollout: a rule added for good is in both,
a rule adopted only so that phase 2 can remove it is in phase 1 alone, and a removal is
in phase 2 alone. Each phase's text is the original with that phase's edits applied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from zt_flows.tfrepo.model import Phase
from zt_flows.tfrepo.scan import Collection, Element

BOTH: frozenset[Phase] = frozenset({1, 2})
PHASE1: frozenset[Phase] = frozenset({1})
PHASE2: frozenset[Phase] = frozenset({2})


@dataclass(frozen=True)
class TextEdit:
    path: str  # repository path
    start: int
    end: int
    text: str
    phases: frozenset[Phase]
    order: tuple[object, ...] = ()  # among insertions at one place


class OverlappingEditsError(Exception):
    pass


def apply_edits(text: str, edits: Iterable[TextEdit], phase: Phase) -> str:
    chosen = sorted(
        (e for e in edits if phase in e.phases), key=lambda e: (e.start, e.end, e.order)
    )
    out: list[str] = []
    pos = 0
    for edit in chosen:
        if edit.start < pos:
            raise OverlappingEditsError(f"{edit.path}: edits overlap at offset {edit.start}")
        out.append(text[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def by_path(edits: Iterable[TextEdit]) -> dict[str, list[TextEdit]]:
    grouped: dict[str, list[TextEdit]] = defaultdict(list)
    for edit in edits:
        grouped[edit.path].append(edit)
    return dict(grouped)


# --------------------------------------------------------------------------- spans


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    stop = text.find("\n", offset)
    return len(text) if stop < 0 else stop + 1


def _is_blank(text: str, start: int, end: int) -> bool:
    return text[start:end].strip() == ""


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(("#", "//", "/*", "*"))


def removal_span(
    text: str, line_start: int, line_end: int, *, comments: bool = True
) -> tuple[int, int]:
    """The lines ``line_start``..``line_end``, the comment lines right above them, and
    one blank line that separated them from what came before (so no gap is left)."""
    start = line_start
    if comments:
        while start > 0:
            prev = _line_start(text, start - 1)
            line = text[prev:start]
            if not _is_comment(line):
                break
            start = prev
    if start > 0:
        prev = _line_start(text, start - 1)
        if _is_blank(text, prev, start):
            start = prev
    return start, line_end


def element_removal(text: str, listing: Collection, element: Element) -> tuple[int, int]:
    """The span that removes ``element`` (and its separator) from ``listing``."""
    elements = listing.elements
    index = elements.index(element)
    line_start = _line_start(text, element.start)
    alone_before = _is_blank(text, line_start, element.start)
    after = element.end
    while after < listing.close and text[after] in " \t":
        after += 1
    if after < listing.close and text[after] == ",":
        after += 1
    line_end = _line_end(text, after)
    alone_after = text[after:line_end].strip() == "" or text[after:line_end].strip().startswith(
        ("#", "//")
    )
    if listing.multiline and alone_before and alone_after:
        return line_start, line_end
    if index + 1 < len(elements):
        return element.start, elements[index + 1].start
    if index > 0:
        return elements[index - 1].end, element.end
    return element.start, element.end
