"""The lenses' figures: pure functions from score arrays and labels to Plotly figures.

Signed scores (attribution, a change in probability) use a diverging scale centred on zero, so a
token or head that pushed the answer away reads as clearly as one that pushed it on; probabilities
use Viridis, as the attention heatmaps do. Raw labels ride in `layout.meta`, as in figures.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.explorer.figures import COLORBAR, TICK_ANGLE
from components.plots import (
    ASSUMED_WIDTH,
    BAR_COLOR,
    COLOR_SCALE,
    HIGHLIGHT_COLOR,
    NORMAL,
    SECOND_COLOR,
    TOP,
    Style,
    axis,
    base_layout,
    categories,
    colorbar,
    escape,
    label_margin,
    label_ticks,
    tick_label,
)

DIVERGING = "RdBu"  # red for pushed away, blue for pushed toward: told apart in the common colour-blindnesses
PUSHED_AWAY = "#b2182b"


def _outline(style: Style, *, x0: float, x1: float, y0: float, y1: float) -> dict:
    """A rectangle around the cells in focus, in the highlight colour."""
    line = {"color": HIGHLIGHT_COLOR, "width": 2 * style.line_width}
    return {"type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1, "line": line}


def _span(values: np.ndarray) -> float:
    """A symmetric colour range: zero stays in the middle, white."""
    finite = np.abs(values[np.isfinite(values)]) if values.size else np.zeros(1)
    return float(max(1e-9, finite.max() if finite.size else 0.0))


def signed_heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    value: str,
    style: Style = NORMAL,
    row_start: int = 0,
    highlight_row: int | None = None,
    y_title: str = "written token",
    x_title: str = "input token",
) -> go.Figure:
    """matrix: [rows, cols] of signed scores; row i is row `row_start + i` of the whole. `value` names a cell."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"Scores of shape {matrix.shape} do not match {len(row_labels)} x {len(col_labels)} labels.")
    rows = matrix.shape[0]
    margin = {"t": TOP, "l": label_margin(style), "b": label_margin(style, angle=TICK_ANGLE), "r": COLORBAR}
    height = min(1000, max(380, margin["t"] + margin["b"] + int(1.8 * style.font_size * rows)))
    span = _span(matrix)
    heatmap = go.Heatmap(
        z=matrix,
        x=categories(col_labels),
        y=categories(row_labels, row_start),
        zmin=-span,
        zmax=span,
        zmid=0.0,
        colorscale=DIVERGING,
        colorbar=colorbar(style, title={"text": value}),
        hovertemplate=f"%{{y}} ← %{{x}}<br>{escape(value)}: %{{z:.4f}}<extra></extra>",
    )
    x_ticks = label_ticks(col_labels, length_px=ASSUMED_WIDTH - margin["l"] - margin["r"], style=style)
    y_ticks = label_ticks(row_labels, length_px=height - margin["t"] - margin["b"], style=style, start=row_start)
    shapes = []
    if highlight_row is not None and 0 <= highlight_row - row_start < rows:
        y = highlight_row - row_start
        shapes.append(_outline(style, x0=-0.5, x1=len(col_labels) - 0.5, y0=y - 0.5, y1=y + 0.5))
    layout = {
        **base_layout(style, title=title, height=height, margin=margin),
        "xaxis": axis(x_title, style, tickangle=TICK_ANGLE, **x_ticks),
        "yaxis": axis(y_title, style, autorange="reversed", **y_ticks),
        "shapes": shapes,
        "meta": {"row_labels": list(row_labels), "col_labels": list(col_labels), "row_start": row_start},
    }
    return go.Figure(data=[heatmap], layout=layout)


def token_score_bars(scores: np.ndarray, labels: Sequence[str], *, title: str, value: str, style: Style = NORMAL):
    """A bar per token, toward the answer (blue) or away from it (red); the largest labelled. scores: [tokens]."""
    scores = np.asarray(scores, dtype=np.float32)
    if scores.shape != (len(labels),):
        raise ValueError(f"Scores of shape {scores.shape} do not match {len(labels)} tokens.")
    names = categories(labels)
    top = int(np.argmax(scores)) if scores.size else None
    bars = go.Bar(
        x=names,
        y=scores,
        marker={"color": [BAR_COLOR if s >= 0 else PUSHED_AWAY for s in scores]},
        hovertemplate=f"token: <b>%{{x}}</b><br>{escape(value)}: %{{y:.4f}}<extra></extra>",
    )
    annotations = (
        []
        if top is None
        else [
            {
                "x": names[top],
                "y": float(scores[top]),
                "text": f"{scores[top]:+.3g}",
                "showarrow": False,
                "yanchor": "bottom",
                "yshift": 3,
            }
        ]
    )
    margin = {"t": TOP, "l": 6 * style.font_size + 20, "b": label_margin(style, angle=TICK_ANGLE), "r": 30}
    x_ticks = label_ticks(labels, length_px=ASSUMED_WIDTH - margin["l"] - margin["r"], style=style)
    layout = {
        **base_layout(style, title=title, height=margin["t"] + margin["b"] + 320, margin=margin),
        "xaxis": axis("input token", style, tickangle=TICK_ANGLE, **x_ticks),
        "yaxis": axis(value, style, zeroline=True),
        "annotations": annotations,
        "meta": {"col_labels": list(labels)},
    }
    return go.Figure(data=[bars], layout=layout)


def layer_head_heatmap(
    matrix: np.ndarray, *, title: str, value: str, signed: bool, style: Style = NORMAL, marked: Sequence = ()
) -> go.Figure:
    """matrix: [layers, heads], layer 1 on top; `marked` (layer, head) pairs from 1 get an outline."""
    matrix = np.asarray(matrix, dtype=np.float32)
    layers, heads = matrix.shape
    span = _span(matrix)
    scale = (
        {"zmin": -span, "zmax": span, "zmid": 0.0, "colorscale": DIVERGING}
        if signed
        else {"zmin": 0.0, "zmax": max(1e-9, float(matrix.max())), "colorscale": COLOR_SCALE}
    )
    heatmap = go.Heatmap(
        z=matrix,
        x=[f"H{h + 1}" for h in range(heads)],
        y=[f"L{layer + 1}" for layer in range(layers)],
        colorbar=colorbar(style, title={"text": value}),
        hovertemplate=f"layer %{{y}}, head %{{x}}<br>{escape(value)}: %{{z:.4f}}<extra></extra>",
        **scale,
    )
    shapes = [_outline(style, x0=h - 1.5, x1=h - 0.5, y0=layer - 1.5, y1=layer - 0.5) for layer, h in marked]
    margin = {"t": TOP, "l": 4 * style.font_size + 30, "b": 3 * style.font_size + 30, "r": COLORBAR}
    height = min(900, max(320, margin["t"] + margin["b"] + int(1.6 * style.font_size) * layers))
    layout = {
        **base_layout(style, title=title, height=height, margin=margin),
        "xaxis": axis("head", style, type="category"),
        "yaxis": axis("layer", style, type="category", autorange="reversed"),
        "shapes": shapes,
        "meta": {"layers": layers, "heads": heads},
    }
    return go.Figure(data=[heatmap], layout=layout)


def word_grid(
    probabilities: np.ndarray,
    words: Sequence[Sequence[str]],
    step_labels: Sequence[str],
    *,
    title: str,
    style: Style = NORMAL,
    highlight_col: int | None = None,
) -> go.Figure:
    """The logit lens: layers (rows, layer 1 on top) x steps (columns), each cell the layer's top token.

    probabilities: [layers, steps], the colour; words: [layers][steps], the text in each cell.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    layers, steps = probabilities.shape
    text = [[tick_label(word, style) for word in row] for row in words]
    x = categories(step_labels)
    heatmap = go.Heatmap(
        z=probabilities,
        x=x,
        y=[f"L{layer + 1}" for layer in range(layers)],
        text=text,
        texttemplate="%{text}" if layers * steps <= 1500 else None,
        textfont={"size": max(9, style.font_size - 4)},
        zmin=0.0,
        zmax=1.0,
        colorscale=COLOR_SCALE,
        colorbar=colorbar(style, title={"text": "probability"}),
        hovertemplate="step %{x}, layer %{y}<br>top token: <b>%{text}</b> (%{z:.3f})<extra></extra>",
    )
    shapes = []
    if highlight_col is not None and 0 <= highlight_col < steps:
        shapes.append(_outline(style, x0=highlight_col - 0.5, x1=highlight_col + 0.5, y0=-0.5, y1=layers - 0.5))
    margin = {"t": TOP, "l": 4 * style.font_size + 30, "b": label_margin(style, angle=TICK_ANGLE), "r": COLORBAR}
    height = min(1100, max(380, margin["t"] + margin["b"] + int(1.7 * style.font_size) * layers))
    x_ticks = label_ticks(step_labels, length_px=ASSUMED_WIDTH - margin["l"] - margin["r"], style=style)
    layout = {
        **base_layout(style, title=title, height=height, margin=margin),
        "xaxis": axis("written token (step)", style, tickangle=TICK_ANGLE, **x_ticks),
        "yaxis": axis("layer", style, type="category", autorange="reversed"),
        "shapes": shapes,
        "meta": {"words": [list(row) for row in words], "col_labels": list(step_labels)},
    }
    return go.Figure(data=[heatmap], layout=layout)


def before_after_bars(
    names: Sequence[str], before: Sequence[float], after: Sequence[float], *, title: str, value: str, style=NORMAL
) -> go.Figure:
    """For each name (a class, or the one answer), its value with every head and with the heads knocked out."""
    bars = [
        go.Bar(
            name=name,
            x=np.asarray(values, dtype=np.float32),
            y=[escape(n) for n in names],
            orientation="h",
            marker={"color": color},
            text=[f"{v:.3f}" for v in values],
            textposition="auto",
            hovertemplate="%{y}<br>" + name + ": %{x:.4f}<extra></extra>",
        )
        for name, values, color in (("every head", before, BAR_COLOR), ("heads knocked out", after, SECOND_COLOR))
    ]
    height = 180 + int(2.4 * style.font_size) * 2 * max(1, len(names))
    layout = {
        **base_layout(style, title=title, height=height, margin={"l": 200, "t": TOP + 4 * style.font_size}),
        "xaxis": axis(value, style, range=[0, 1]),
        "yaxis": axis("", style, autorange="reversed"),
        "barmode": "group",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    }
    return go.Figure(data=bars, layout=layout)


def layer_bars(values: np.ndarray, *, title: str, value: str, style: Style = NORMAL) -> go.Figure:
    """One bar per layer, layer 1 on the left. values: [layers] in 0..1."""
    values = np.asarray(values, dtype=np.float32)
    bars = go.Bar(
        x=[f"L{layer + 1}" for layer in range(len(values))],
        y=values,
        marker={"color": SECOND_COLOR},
        hovertemplate=f"layer %{{x}}<br>{escape(value)}: %{{y:.4f}}<extra></extra>",
    )
    margin = {"t": TOP, "l": 6 * style.font_size + 20, "b": 3 * style.font_size + 40, "r": 30}
    layout = {
        **base_layout(style, title=title, height=margin["t"] + margin["b"] + 300, margin=margin),
        "xaxis": axis("layer", style, type="category"),
        "yaxis": axis(value, style, range=[0, 1]),
    }
    return go.Figure(data=[bars], layout=layout)
