"""A picture as a flat list of shapes, in points (1/72 inch), y growing downwards.

The layout produces a :class:`Scene`; ``graph.picture`` writes it as SVG or PNG, so
both show exactly the same thing. Text is measured with the DejaVu Sans files that
ship with matplotlib (never a system font), so sizes do not depend on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

Point = tuple[float, float]
Anchor = Literal["start", "middle", "end"]

FONT_FAMILY = "DejaVu Sans"


@dataclass(frozen=True)
class Box:
    """A rectangle with rounded corners (``radius`` = h/2 draws a pill)."""

    x: float
    y: float
    w: float
    h: float
    radius: float
    fill: str
    stroke: str
    stroke_width: float = 1.0
    dash: tuple[float, ...] = ()
    tooltip: str = ""


@dataclass(frozen=True)
class Curve:
    """A path: ``start``, then cubic Bézier segments ``(control1, control2, end)``."""

    start: Point
    segments: tuple[tuple[Point, Point, Point], ...]
    stroke: str
    stroke_width: float = 1.0
    dash: tuple[float, ...] = ()
    opacity: float = 1.0


@dataclass(frozen=True)
class Polygon:
    points: tuple[Point, ...]
    fill: str


@dataclass(frozen=True)
class Text:
    """One line of text; ``y`` is the baseline."""

    x: float
    y: float
    text: str
    size: float
    color: str = "#111827"
    bold: bool = False
    italic: bool = False
    anchor: Anchor = "start"


Shape = Box | Curve | Polygon | Text


@dataclass(frozen=True)
class Scene:
    width: float
    height: float
    title: str
    shapes: tuple[Shape, ...]


def font_file(bold: bool = False, italic: bool = False) -> Path:
    """The bundled DejaVu Sans file for a style."""
    import matplotlib

    style = ("Bold" if bold else "") + ("Oblique" if italic else "")
    name = f"DejaVuSans-{style}.ttf" if style else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@cache
def text_width(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    """Advance width of ``text`` in points."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    props = FontProperties(fname=font_file(bold, italic), size=size)
    width, _, _ = TextToPath().get_text_width_height_descent(text, props, ismath=False)
    return float(width)
