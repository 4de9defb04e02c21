"""The fill-mask lab's charts: pure functions from words and probabilities to Plotly figures.

Both sentences' fills share one probability axis, so their bars compare at a glance; the difference
chart puts the words the first sentence favours on the right and the second's on the left.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.plots import BAR_COLOR, NORMAL, Style, axis, base_layout, escape, short

FIRST_COLOR = BAR_COLOR
SECOND_COLOR = "#21918c"  # Viridis' teal: apart from the first's blue, and dark enough for text beside it


@dataclass(frozen=True)
class FillColumn:
    """One sentence's fills, best first. labels: the words as read; tokens: the raw pieces (for hovers)."""

    sentence: str
    labels: Sequence[str]
    tokens: Sequence[str]
    scores: Sequence[float]


def fills_side_by_side(columns: Sequence[FillColumn], *, title: str, style: Style = NORMAL) -> go.Figure:
    """Horizontal bars of each sentence's top-k fills, one panel per sentence, best on top, on one shared
    probability axis. columns: one or two."""
    top = max((max(c.scores, default=0.0) for c in columns), default=0.0)
    span = [0, min(1.0, max(top, 1e-6) * 1.3)]  # room for the percentages beside the longest bar
    width = 56 // len(columns)  # characters a panel's sentence gets per line, on two lines at most
    figure = make_subplots(
        rows=1,
        cols=len(columns),
        subplot_titles=[_two_lines(c.sentence, width) for c in columns],
        horizontal_spacing=0.22 if len(columns) > 1 else 0.2,
    )
    for i, (column, color) in enumerate(zip(columns, (FIRST_COLOR, SECOND_COLOR), strict=False), start=1):
        figure.add_trace(
            go.Bar(
                x=[float(s) for s in column.scores],
                y=[escape(label) for label in column.labels],
                orientation="h",
                text=[f"{s:.1%}" for s in column.scores],
                textposition="outside",
                cliponaxis=False,
                marker={"color": color},
                customdata=[escape(token) for token in column.tokens],
                hovertemplate="%{y} (piece %{customdata}): %{x:.4f}<extra></extra>",
                showlegend=False,
            ),
            row=1,
            col=i,
        )
    rows = max((len(c.labels) for c in columns), default=1)
    height = 190 + int(2.6 * style.font_size) * rows
    layout = base_layout(style, title=title, height=height, margin={"l": 110, "r": 40, "t": 110, "b": 60})
    figure.update_layout(**layout)
    for i in range(1, len(columns) + 1):
        suffix = "" if i == 1 else str(i)
        figure.layout[f"xaxis{suffix}"].update(axis("probability", style, range=span, tickformat=".1~%"))
        figure.layout[f"yaxis{suffix}"].update(axis("", style, autorange="reversed", type="category"))
    for note in figure.layout.annotations:  # the panels' sentences, in the body's font
        note.font = {"size": style.font_size}
    figure.layout.meta = {
        "sentences": [c.sentence for c in columns],
        "labels": [list(c.labels) for c in columns],
        "tokens": [list(c.tokens) for c in columns],
    }
    return figure


def _two_lines(sentence: str, width: int) -> str:
    """A panel's sentence, escaped, wrapped on at most two lines of `width` characters (cut with "…")."""
    lines = textwrap.wrap(" ".join(sentence.split()), width=width, break_on_hyphens=False) or [""]
    if len(lines) > 2:
        lines = [lines[0], short(" ".join(lines[1:]), width)]
    return "<br>".join(escape(line) for line in lines)


def percent_decimals(largest: float) -> int:
    """Decimals of a percentage that show `largest` (a difference of probabilities) with two significant
    digits, from 1 to 4: the He/She preset's differences of 0.0x% read '+0.0%' with one."""
    if largest <= 0:
        return 1
    return max(1, min(4, 1 - math.floor(math.log10(largest * 100))))


def difference_bars(
    labels: Sequence[str],
    tokens: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    *,
    title: str,
    style: Style = NORMAL,
) -> go.Figure:
    """P(first) − P(second) for each word, most favoured by the first sentence on top. labels, tokens,
    first, second: [words]; the probabilities come from each sentence's full softmax at its mask."""
    difference = [float(a) - float(b) for a, b in zip(first, second, strict=True)]
    order = sorted(range(len(labels)), key=lambda i: difference[i], reverse=True)
    decimals = percent_decimals(max((abs(d) for d in difference), default=0.0))
    bars = go.Bar(
        x=[difference[i] for i in order],
        y=[escape(labels[i]) for i in order],
        orientation="h",
        text=[f"{difference[i]:+.{decimals}%}" for i in order],
        textposition="outside",
        cliponaxis=False,
        marker={"color": [FIRST_COLOR if difference[i] >= 0 else SECOND_COLOR for i in order]},
        customdata=[[float(first[i]), float(second[i]), escape(tokens[i])] for i in order],
        hovertemplate=(
            "%{y} (piece %{customdata[2]})<br>first: %{customdata[0]:.4f}<br>second: %{customdata[1]:.4f}"
            "<br>difference: %{x:+.4f}<extra></extra>"
        ),
    )
    reach = max((abs(d) for d in difference), default=0.0) * 1.35 or 1e-6
    height = 190 + int(2.4 * style.font_size) * len(labels)
    subtitle = "Right of 0: likelier in the first sentence. Left: likelier in the second."
    layout = {
        **base_layout(
            style, title=title, subtitle=subtitle, height=height, margin={"l": 110, "r": 40, "t": 90, "b": 60}
        ),
        "xaxis": axis(
            "P(first) − P(second)",
            style,
            range=[-reach, reach],
            tickformat=f"+.{decimals}~%",
            zeroline=True,
            zerolinewidth=2 * style.line_width,
        ),
        "yaxis": axis("", style, autorange="reversed", type="category"),
        "showlegend": False,
        "meta": {
            "labels": [labels[i] for i in order],
            "tokens": [tokens[i] for i in order],
            "first": [float(first[i]) for i in order],
            "second": [float(second[i]) for i in order],
            "difference": [difference[i] for i in order],
        },
    }
    return go.Figure(data=[bars], layout=layout)
