"""A :class:`Scene` as SVG text or PNG bytes, deterministic to the byte.

The SVG is written directly: no XML declaration, no DOCTYPE, no ``<style>``, no ids and
no external references, so the HTML report can inline it as it is, and every string is
XML-escaped (names come from AWS and are untrusted). Text stays text (``<text>``), so
the picture is searchable and the names in it can be checked.

The PNG is drawn by matplotlib's Agg renderer from the same scene with the bundled
DejaVu Sans fonts, without pyplot (no global state) and without the "Software"
metadata entry (it names the matplotlib version).
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from zt_flows.graph.scene import FONT_FAMILY, Box, Curve, Polygon, Scene, Shape, Text, font_file

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PNG_DPI = 110.0
# Agg refuses images above 2^16 pixels a side; large graphs are drawn at a lower DPI.
_MAX_PIXELS = 30000
# Characters XML 1.0 cannot carry, and lone surrogates (JSON can smuggle them in).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: object) -> str:
    """``value`` as a string without the characters XML 1.0 cannot carry (→ U+FFFD)."""
    return _XML_INVALID.sub("\ufffd", str(value))


def xml_text(value: object) -> str:
    """Text safe inside an XML element: escaped, and without XML-invalid characters."""
    return escape(xml_safe(value))


def xml_attr(value: object) -> str:
    """A quoted XML attribute value (line breaks kept as character references)."""
    return quoteattr(xml_safe(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _n(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def scene_to_svg(scene: Scene) -> str:
    """The scene as a standalone SVG document that can also be inlined in HTML."""
    w, h = _n(scene.width), _n(scene.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" '
        f'viewBox="0 0 {w} {h}" font-family={xml_attr(FONT_FAMILY + ", Verdana, sans-serif")} '
        f'role="img" aria-label={xml_attr(scene.title)}>',
        f"<title>{xml_text(scene.title)}</title>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    out.extend(_svg_shape(shape) for shape in scene.shapes)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Box):
        dash = f' stroke-dasharray="{" ".join(map(_n, shape.dash))}"' if shape.dash else ""
        rect = (
            f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" '
            f'height="{_n(shape.h)}" rx="{_n(shape.radius)}" fill="{shape.fill}" '
            f'stroke="{shape.stroke}" stroke-width="{_n(shape.stroke_width)}"{dash}'
        )
        if shape.tooltip:
            return f"{rect}><title>{xml_text(shape.tooltip)}</title></rect>"
        return rect + "/>"
    if isinstance(shape, Curve):
        d = [f"M{_n(shape.start[0])} {_n(shape.start[1])}"]
        for c1, c2, end in shape.segments:
            d.append("C" + " ".join(f"{_n(x)} {_n(y)}" for x, y in (c1, c2, end)))
        dash = f' stroke-dasharray="{" ".join(map(_n, shape.dash))}"' if shape.dash else ""
        opacity = f' stroke-opacity="{_n(shape.opacity)}"' if shape.opacity < 1 else ""
        return (
            f'<path d="{" ".join(d)}" fill="none" stroke="{shape.stroke}" '
            f'stroke-width="{_n(shape.stroke_width)}"{dash}{opacity}/>'
        )
    if isinstance(shape, Polygon):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        return f'<polygon points="{points}" fill="{shape.fill}"/>'
    weight = ' font-weight="bold"' if shape.bold else ""
    style = ' font-style="italic"' if shape.italic else ""
    return (
        f'<text x="{_n(shape.x)}" y="{_n(shape.y)}" font-size="{_n(shape.size)}" '
        f'text-anchor="{shape.anchor}" fill="{shape.color}"{weight}{style} '
        f'xml:space="preserve">{xml_text(shape.text)}</text>'
    )


def scene_to_png(scene: Scene) -> bytes:
    """The scene rasterised by matplotlib (Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = min(PNG_DPI, _MAX_PIXELS * 72.0 / max(scene.width, scene.height, 1.0))
    figure = Figure(figsize=(scene.width / 72.0, scene.height / 72.0), dpi=dpi)
    FigureCanvasAgg(figure)  # attaches the Agg canvas: no pyplot, no global state
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, scene.width)
    axes.set_ylim(scene.height, 0)
    axes.set_axis_off()
    for z, shape in enumerate(scene.shapes):
        _draw(axes, shape, z)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _draw(axes: Axes, shape: Shape, z: int) -> None:
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import FancyBboxPatch, PathPatch
    from matplotlib.patches import Polygon as PolygonPatch
    from matplotlib.path import Path as MplPath

    if isinstance(shape, Box):
        radius = min(shape.radius, shape.w / 2, shape.h / 2)
        axes.add_patch(
            FancyBboxPatch(
                (shape.x, shape.y),
                shape.w,
                shape.h,
                boxstyle=f"round,pad=0,rounding_size={radius}",
                facecolor=shape.fill,
                edgecolor=shape.stroke,
                linewidth=shape.stroke_width,
                linestyle=_dashes(shape.dash, shape.stroke_width),
                zorder=z,
            )
        )
    elif isinstance(shape, Curve):
        vertices = [shape.start]
        codes = [MplPath.MOVETO]
        for c1, c2, end in shape.segments:
            vertices.extend((c1, c2, end))
            codes.extend((MplPath.CURVE4,) * 3)
        axes.add_patch(
            PathPatch(
                MplPath(vertices, codes),
                facecolor="none",
                edgecolor=shape.stroke,
                linewidth=shape.stroke_width,
                linestyle=_dashes(shape.dash, shape.stroke_width),
                alpha=shape.opacity,
                capstyle="butt",
                zorder=z,
            )
        )
    elif isinstance(shape, Polygon):
        axes.add_patch(
            PolygonPatch(
                list(shape.points), closed=True, facecolor=shape.fill, linewidth=0, zorder=z
            )
        )
    elif isinstance(shape, Text):
        axes.text(
            shape.x,
            shape.y,
            shape.text,
            fontproperties=FontProperties(
                fname=font_file(shape.bold, shape.italic), size=shape.size
            ),
            color=shape.color,
            ha={"start": "left", "middle": "center", "end": "right"}[shape.anchor],
            va="baseline",
            parse_math=False,
            usetex=False,
            zorder=z,
        )


def _dashes(dash: tuple[float, ...], width: float) -> tuple[float, tuple[float, ...]] | str:
    """matplotlib scales dash patterns by the line width; SVG does not."""
    return (0.0, tuple(d / width for d in dash)) if dash else "solid"
