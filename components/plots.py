"""Plot builders and the look they share: pure functions from arrays and labels to Plotly figures.

No model is loaded here. Labels are HTML-escaped because Plotly renders a subset of HTML in ticks,
hovers and titles (a BART token like `<s>` would otherwise vanish as a strike-through tag); raw
labels ride along in `layout.meta` where API clients need them. The explorer's figures
(components/explorer/figures.py) use the helpers below; the tabs use the score charts.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

# Perceptually uniform and colour-blind safe, readable on a projector.
COLOR_SCALE = "Viridis"
BAR_COLOR = "#3b528b"
SECOND_COLOR = "#5ec962"
# Stands out on every Viridis colour and on white.
HIGHLIGHT_COLOR = "#ff4d4d"
OUTLINE = "#111111"
TOP = 80  # px above the plot: the title
TITLE_WIDTH_PX = 480  # a title fits the narrower column of the page: the explorer's charts beside its heatmap
# Gradio sizes plots to their column, so tick fitting assumes these widths (widget.py lays the columns out):
ASSUMED_WIDTH = 720  # px: the explorer's main column at 1366×768 (heatmap, grids); wider screens have more
SIDE_WIDTH = 480  # px: the column of charts beside the heatmap


@dataclass(frozen=True)
class Style:
    """Fonts and line widths; the presenter style is for a projector at the back of a classroom."""

    font_size: int
    line_width: float
    max_label_chars: int
    min_tick_font: int = 9  # tick labels shrink down to this size before some are left out


NORMAL = Style(font_size=14, line_width=1.0, max_label_chars=16, min_tick_font=9)
PRESENTER = Style(font_size=22, line_width=2.5, max_label_chars=14, min_tick_font=14)
LINE_SPACING = 1.6  # font sizes between labels stacked along an axis


def style_for(presenter: bool) -> Style:
    return PRESENTER if presenter else NORMAL


def escape(text: str) -> str:
    """A label as Plotly must receive it to show it literally.

    Quotes stay as they are: Plotly only parses tags, and it shows `&quot;` as typed.
    """
    return html.escape(str(text), quote=False)


def tick_label(text: str, style: Style) -> str:
    """Escaped, and cut with "…" past `style.max_label_chars` (cut before escaping, so no entity is split)."""
    text = str(text)
    if len(text) > style.max_label_chars:
        text = text[: style.max_label_chars - 1] + "…"
    return escape(text)


def categories(labels: Sequence[str], start: int = 0) -> list[str]:
    """Unique axis categories "label #i": a category axis would merge repeated tokens ("the" … "the").

    Hovers read them directly, so no per-cell hover data is sent.
    """
    return [f"{escape(label)} #{start + i}" for i, label in enumerate(labels)]


def max_ticks(length_px: float, style: Style, *, font_size: int | None = None, angle: float = 0.0) -> int:
    """How many tick labels fit along an axis without overlapping: one per 1.6 font sizes (less when slanted)."""
    return max(1, int(length_px // tick_spacing(font_size or style.font_size, angle)))


def tick_spacing(font_size: float, angle: float = 0.0) -> float:
    """Pixels between two tick labels along their axis: upright, 1.6 font sizes; slanted by `angle` degrees
    from the horizontal, 1.2 font sizes measured across the slant."""
    if not angle:
        return LINE_SPACING * font_size
    return 1.2 * font_size / max(abs(math.sin(math.radians(angle))), 0.5)


def tick_font(count: int, length_px: float, style: Style, *, angle: float = 0.0) -> int:
    """The tick font at which `count` labels fit along `length_px`: the style's own, smaller when needed,
    never below `style.min_tick_font` (past that, labels are thinned instead)."""
    fits = length_px / max(1, count) / tick_spacing(1.0, angle)
    return int(max(style.min_tick_font, min(style.font_size, math.floor(fits))))


def thin_ticks(
    values: Sequence[str],
    texts: Sequence[str],
    *,
    length_px: float,
    style: Style,
    anchor: int | None = None,
    font_size: int | None = None,
    angle: float = 0.0,
) -> dict:
    """Category-axis ticks thinned to `max_ticks`; the position `anchor`, when given, always keeps its tick."""
    step = max(1, math.ceil(len(values) / max_ticks(length_px, style, font_size=font_size, angle=angle)))
    first = anchor % step if anchor is not None and 0 <= anchor < len(values) else 0
    shown = range(first, len(values), step)
    return {
        "type": "category",
        "tickmode": "array",
        "tickvals": [values[i] for i in shown],
        "ticktext": [texts[i] for i in shown],
    }


def label_ticks(
    labels: Sequence[str],
    *,
    length_px: float,
    style: Style,
    start: int = 0,
    anchor: int | None = None,
    angle: float = 0.0,
) -> dict:
    """Ticks showing the bare labels (escaped, cut) on the unique `categories` of an axis: in a smaller font
    when they do not fit at the style's own, and thinned only when they do not fit at its smallest."""
    texts = [tick_label(label, style) for label in labels]
    font = tick_font(len(labels), length_px, style, angle=angle)
    ticks = thin_ticks(
        categories(labels, start), texts, length_px=length_px, style=style, anchor=anchor, font_size=font, angle=angle
    )
    return ticks | {"tickfont": {"size": font}}


def label_margin(style: Style, *, angle: float = 0.0, labels: Sequence[str] = ()) -> int:
    """Pixels the longest of `labels` (default: one of `style.max_label_chars` characters) takes across its
    axis as a tick label, plus the axis title; short tokens leave the room to the plot."""
    chars = min(style.max_label_chars, max((len(str(label)) for label in labels), default=style.max_label_chars))
    label = 0.62 * style.font_size * max(chars, 3)
    return int(label * abs(math.sin(math.radians(angle))) if angle else label) + int(2.6 * style.font_size)


def axis_lines(style: Style) -> dict:
    """Axis lines and ticks; the presenter style thickens them along with the fonts."""
    return {
        "showline": True,
        "linewidth": style.line_width,
        "ticks": "outside",
        "tickwidth": style.line_width,
        "ticklen": int(4 + 2 * style.line_width),
        "tickfont": {"size": style.font_size},
        # An explicit standoff makes plotly.js measure the tick labels before placing the title; without it,
        # Gradio's plotly.js 3 draws the title over long rotated labels.
        "title": {"font": {"size": style.font_size}, "standoff": int(0.6 * style.font_size)},
        "automargin": True,
    }


def axis(title: str, style: Style, **options: object) -> dict:
    """A whole axis as one dict (lines, fonts, title, options): a figure built from dicts validates once,
    where update_xaxes/update_yaxes re-validate piece by piece (ten times slower for a heatmap)."""
    lines = axis_lines(style)
    return {**lines, "title": {**lines["title"], "text": title}, **options}


def scale_title(zmin: float, zmax: float, *, fitted: bool) -> str:
    """A colour bar's title that states its range: "weight<br>0–1", or "weight<br>0.02–0.41<br>(fit)"."""
    if not fitted:
        return "weight<br>0–1"
    # Enough decimals that the two ends differ: a near-uniform map spans 0.0985–0.1015, not "0.10–0.10".
    digits = min(4, max(2, 1 - math.floor(math.log10(zmax - zmin)))) if zmax > zmin else 2
    return f"weight<br>{zmin:.{digits}f}–{zmax:.{digits}f}<br>(fit)"


def colorbar(style: Style, **placement: object) -> dict:
    """A colour bar drawn with the style's line width and font; `placement` sets x, y, len, title…"""
    return {
        "outlinewidth": style.line_width,
        "tickwidth": style.line_width,
        "tickfont": {"size": style.font_size},
        **placement,
    }


def _nbsp(match: re.Match) -> str:
    return match.group(0).replace(" ", "\u00a0")


def wrapped_title(title: str, style: Style, *, font_size: float | None = None) -> str:
    """The title escaped and wrapped onto lines (Plotly clips a title wider than its figure, it never wraps)."""
    width = max(24, int(TITLE_WIDTH_PX / (0.55 * (font_size or 1.3 * style.font_size))))
    glued = re.sub(r"\b(layer|head|Layer|Head|Step) (?=\d)", "\\1\u00a0", str(title))  # "layer 6" stays on one line
    # So does what `shaping.where` names: "layer 6, averaged over heads", "layer 6, head 3".
    glued = re.sub(r"layer\u00a0\d+, (averaged over heads|max over heads|head\u00a0\d+)", _nbsp, glued)
    glued = glued.replace(" · ", "\u00a0· ")  # a line may end with the separator, never start with it
    lines = textwrap.wrap(glued, width=width, break_on_hyphens=False) or [glued]
    return "<br>".join(escape(line.replace("\u00a0", " ")) for line in lines)


def base_layout(
    style: Style, *, title: str, height: int, margin: Mapping[str, int], subtitle: str | None = None
) -> dict:
    """Layout keys every figure shares: escaped, wrapped title, fonts from the style, compact template.

    A `subtitle` goes below the title in the body's font size. The title block hangs from the top of the
    figure, below the label Gradio lays over a plot's top-left corner; the top margin grows to hold it
    (a projector's font, the switches in force), and the figure with it, so the plot keeps its height.
    """
    title_font = int(style.font_size * 1.3)
    text = wrapped_title(title, style)
    block = (text.count("<br>") + 1) * int(1.35 * title_font)
    if subtitle:
        lines = wrapped_title(subtitle, style, font_size=style.font_size).split("<br>")
        text += "".join(f"<br><span style='font-size:{style.font_size}px'>{line}</span>" for line in lines)
        block += len(lines) * int(1.6 * style.font_size)
    # Gradio's label over the plot's corner is about 2.2 font sizes tall; plotly.js puts a top-anchored title's
    # first line about one title font higher than asked.
    pad = int(2.2 * style.font_size) + title_font
    top = margin.get("t", TOP)
    needed = (top - TOP) + pad + block + int(0.6 * style.font_size)  # what the figure keeps above the plot, too
    extra = max(0, needed - top)
    total = int(height) + extra
    # Placed by fraction of the figure: plotly.js ignores title.pad for a title placed in the container.
    placed = {"y": round(1 - pad / total, 4), "yref": "container", "yanchor": "top"}
    return {
        "title": {"text": text, "font": {"size": title_font}} | placed,
        "template": "none",
        "font": {"size": style.font_size},
        "hoverlabel": {"font": {"size": style.font_size}},
        "height": total,
        "margin": dict(margin) | {"t": top + extra},
    }


def score_bars(labels: Sequence[str], scores: Sequence[float], *, title: str, style: Style = NORMAL) -> go.Figure:
    """Horizontal bars of scores in 0..1, highest on top. labels, scores: [n]."""
    order = sorted(range(len(labels)), key=lambda i: scores[i], reverse=True)
    bars = go.Bar(
        x=[float(scores[i]) for i in order],
        y=[escape(labels[i]) for i in order],
        orientation="h",
        text=[f"{scores[i]:.1%}" for i in order],
        textposition="auto",
        marker={"color": BAR_COLOR},
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    )
    height = 160 + int(2.8 * style.font_size) * len(labels)
    layout = {
        **base_layout(style, title=title, height=height, margin={"l": 160, "t": 70}),
        "xaxis": axis("score", style, range=[0, 1]),
        "yaxis": axis("", style, autorange="reversed"),
    }
    return go.Figure(data=[bars], layout=layout)


def class_probability_bars(
    rows: Sequence[str], probabilities: Mapping[str, Sequence[float]], *, title: str, style: Style = NORMAL
) -> go.Figure:
    """Grouped horizontal bars: for each row (a text), one bar per class. probabilities: class -> [rows]."""
    palette = ["#440154", "#21918c", "#fde725", "#3b528b", "#5ec962"]
    bars = [
        go.Bar(
            name=escape(label),
            x=[float(p) for p in values],
            y=[escape(row) for row in rows],
            orientation="h",
            marker={"color": palette[i % len(palette)]},
            text=[f"{p:.1%}" for p in values],
            textposition="auto",
            hovertemplate="%{y}<br>" + escape(label) + ": %{x:.3f}<extra></extra>",
        )
        for i, (label, values) in enumerate(probabilities.items())
    ]
    bar_px = int(2.2 * style.font_size)
    height = 180 + bar_px * len(rows) * max(1, len(probabilities))
    legend_row = int(2.4 * style.font_size)  # between the title and the plot: clear of both and of the axis title
    layout = {
        **base_layout(style, title=title, height=height, margin={"l": 200, "t": TOP + legend_row}),
        "xaxis": axis("probability", style, range=[0, 1]),
        "yaxis": axis("", style, autorange="reversed"),
        "barmode": "group",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    }
    return go.Figure(data=bars, layout=layout)


def short(text: str, limit: int = 40) -> str:
    """A label-sized version of a text."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
