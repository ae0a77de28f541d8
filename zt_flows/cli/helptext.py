"""Help text that reflows at any terminal width.

Help strings are written as paragraphs separated by blank lines; inside a paragraph a line
break is only where the source code wrapped it. :func:`reflow` joins such lines, so the
terminal (rich, through typer) wraps each paragraph at its own width. Indented lines are
examples and stay as they are, one command per line.
"""

from __future__ import annotations

import re

_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def reflow(text: str) -> str:
    """``text`` with every prose paragraph on one line; indented paragraphs unchanged."""
    paragraphs = []
    for paragraph in _PARAGRAPHS.split(text.strip("\n")):
        lines = paragraph.splitlines()
        if any(line[:1].isspace() for line in lines):
            paragraphs.append(paragraph.rstrip())
        else:
            paragraphs.append(" ".join(line.strip() for line in lines if line.strip()))
    return "\n\n".join(p for p in paragraphs if p)


__all__ = ["reflow"]
