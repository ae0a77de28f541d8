"""``analyze --baseline``: the diff written beside the run, and added to its report.

The report is written first, as it always is; the section is then appended to
``report.md`` and placed at the end of ``report.html``'s ``<main>``, each file replaced
atomically. The report's own modules are not involved.
"""

from __future__ import annotations

import json
from pathlib import Path

from zt_flows.diff.model import RunDiff
from zt_flows.diff.section import diff_section

DIFF_FILE = "diff.json"


def _replace(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_diff(diff: RunDiff, out: Path) -> tuple[Path, ...]:
    """``diff.json`` in ``out``, and the section in its report.md and report.html."""
    section = diff_section(diff)
    written = [_replace(out / DIFF_FILE, json.dumps(section.data, indent=2) + "\n")]
    markdown = out / "report.md"
    if markdown.is_file():
        text = markdown.read_text(encoding="utf-8").rstrip("\n")
        written.append(_replace(markdown, f"{text}\n\n{section.markdown}\n"))
    page = out / "report.html"
    if page.is_file():
        html = page.read_text(encoding="utf-8")
        head, sep, tail = html.rpartition("</main>")
        if sep:
            written.append(_replace(page, f"{head}{section.html}{sep}{tail}"))
    return tuple(written)


__all__ = ["DIFF_FILE", "write_diff"]
