"""The explorer's figures: pure functions from attention arrays and token labels to Plotly figures.

Weights go to Plotly as float32 numpy arrays, so they travel as compact base64 (`bdata`, dtype f4).
Shown labels are escaped and cut (see `components.plots`); whole, unescaped labels sit in `layout.meta`.
The bar charts are in `bars`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.plots import (
    ASSUMED_WIDTH,
    COLOR_SCALE,
    HIGHLIGHT_COLOR,
    NORMAL,
    OUTLINE,
    TOP,
    Style,
    axis,
    base_layout,
    categories,
    colorbar,
    escape,
    label_margin,
    label_ticks,
    scale_title,
    tick_spacing,
)

TICK_ANGLE = -60
MAX_HEIGHT = 1600  # px: a heatmap grows with its rows up to this, then its labels shrink, then thin
COLORBAR = 100  # px right of the plot: a colour bar with its ticks
GRID_MARGIN = {"t": TOP + 20, "l": 20, "r": COLORBAR, "b": 20}
HOVER = "query: <b>%{y}</b><br>key: <b>%{x}</b><br>weight: %{z:.3f}<extra></extra>"


def _matrix(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.shape != (len(row_labels), len(col_labels)):
        raise ValueError(
            f"Attention matrix of shape {matrix.shape} does not match "
            f"{len(row_labels)} query tokens x {len(col_labels)} key tokens."
        )
    return matrix


def color_range(weights: np.ndarray, fitted: bool) -> dict:
    """zmin, zmax and `fitted` for a figure: the weights' own range when fitted, else 0 to 1 (every weight,
    a max of heads included, lies in it, so pictures compare).

    weights: [..., rows, cols]. A row with one key left (a causal map's first row) is 1 whatever the model
    does, so the fit leaves such rows out; they show at the top colour. NaN cells (masked) are left out.
    """
    if not fitted or not weights.size:
        return {"zmin": 0.0, "zmax": 1.0, "fitted": False}
    free = (weights > 0).sum(axis=-1) > 1
    cells = weights[free] if free.any() else weights
    low, high = float(np.nanmin(cells)), float(np.nanmax(cells))
    return {"zmin": low, "zmax": high if high > low else low + 1e-6, "fitted": True}


def _bold_tick(ticks: dict, value: str) -> None:
    ticks["ticktext"] = [
        f"<b>{text}</b>" if tick == value else text
        for tick, text in zip(ticks["tickvals"], ticks["ticktext"], strict=True)
    ]


def attention_heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    subtitle: str | None = None,
    style: Style = NORMAL,
    row_start: int = 0,
    highlight_row: int | None = None,
    zmin: float = 0.0,
    zmax: float = 1.0,
    fitted: bool = False,
    width_px: int = ASSUMED_WIDTH,
) -> go.Figure:
    """Heatmap of one attention matrix, optionally a window of its rows.

    matrix: [rows, cols]; row i is query token `row_start + i`, column j key token j.
    highlight_row: absolute query index to outline; ignored when outside the window.
    zmin, zmax: the colour scale's range; `fitted` says it was fitted to the data (the colour bar says so).
    The plot grows with its rows, up to MAX_HEIGHT, so that every row label has room at full size;
    `width_px` is the width the page gives it, which the column labels are fitted to.
    """
    matrix = _matrix(matrix, row_labels, col_labels)
    rows, cols = matrix.shape
    margin = {"t": TOP, "l": label_margin(style, labels=row_labels), "r": COLORBAR}
    margin["b"] = label_margin(style, angle=TICK_ANGLE, labels=col_labels)
    full_size = math.ceil(tick_spacing(style.font_size) * rows)
    height = min(MAX_HEIGHT, max(380, margin["t"] + margin["b"] + full_size))
    focus = highlight_row - row_start if highlight_row is not None and 0 <= highlight_row - row_start < rows else None
    heatmap = go.Heatmap(
        z=matrix,
        x=categories(col_labels),
        y=categories(row_labels, row_start),
        zmin=float(zmin),
        zmax=float(zmax),
        colorscale=COLOR_SCALE,
        colorbar=colorbar(style, title={"text": scale_title(zmin, zmax, fitted=fitted)}),
        hovertemplate=HOVER,
    )
    x_ticks = label_ticks(col_labels, length_px=width_px - margin["l"] - margin["r"], style=style, angle=TICK_ANGLE)
    y_ticks = label_ticks(
        row_labels, length_px=height - margin["t"] - margin["b"], style=style, start=row_start, anchor=focus
    )
    shapes = []
    if focus is not None:
        _bold_tick(y_ticks, categories(row_labels, row_start)[focus])
        shapes.append(_row_outline("x", "y", focus, cols, style))
    layout = {
        **base_layout(style, title=title, height=height, margin=margin, subtitle=subtitle),
        "xaxis": axis("key token (attended to)", style, tickangle=TICK_ANGLE, **x_ticks),
        "yaxis": axis("query token (attending)", style, autorange="reversed", **y_ticks),
        "shapes": shapes,
        "meta": {"row_labels": list(row_labels), "col_labels": list(col_labels), "row_start": row_start},
    }
    return go.Figure(data=[heatmap], layout=layout)


def _row_outline(xref: str, yref: str, row: int, cols: int, style: Style) -> dict:
    """A rectangle around row `row` of a category heatmap on axes `xref`/`yref`: the token in focus."""
    return {
        "type": "rect",
        "xref": xref,
        "yref": yref,
        "x0": -0.5,
        "x1": cols - 0.5,
        "y0": row - 0.5,
        "y1": row + 0.5,
        "line": {"color": HIGHLIGHT_COLOR, "width": 2 * style.line_width},
    }


def _panel_grid(titles: Sequence[str], columns: int, style: Style) -> tuple[dict, list[dict], int]:
    """Axes (xaxis, yaxis, xaxis2…) and title annotations for square panels, `columns` a row; plot height in px.

    Built directly rather than with make_subplots + update_xaxes, which take seconds for a 24 x 16 model view.
    """
    rows, gap_x = math.ceil(len(titles) / columns), 10
    width = ASSUMED_WIDTH - GRID_MARGIN["l"] - GRID_MARGIN["r"]
    side = min(300.0, (width - gap_x * (columns - 1)) / columns)
    longest = max(len(str(t)) for t in titles)
    title_font = max(9, min(style.font_size, int(side / (0.62 * longest))))
    gap_y = int(1.5 * title_font) + 8
    height = rows * side + (rows - 1) * gap_y
    frame = {"type": "category", "showticklabels": False, "ticks": "", "showgrid": False, "showline": True}
    frame |= {"mirror": True, "linewidth": style.line_width}
    axes, annotations = {}, []
    for n, title in enumerate(titles):
        row, col = divmod(n, columns)
        x0, y1 = col * (side + gap_x) / width, 1 - row * (side + gap_y) / height
        x1, y0 = min(1.0, x0 + side / width), max(0.0, y1 - side / height)  # no rounding past the edges
        suffix = "" if n == 0 else str(n + 1)
        axes[f"xaxis{suffix}"] = frame | {"domain": [x0, x1], "anchor": f"y{suffix}"}
        axes[f"yaxis{suffix}"] = frame | {"domain": [y0, y1], "anchor": f"x{suffix}", "autorange": "reversed"}
        annotations.append(
            {"text": escape(title), "x": (x0 + x1) / 2, "y": y1, "xref": "paper", "yref": "paper", "xanchor": "center"}
            | {"yanchor": "bottom", "showarrow": False, "font": {"size": title_font}}
        )
    return axes, annotations, int(height)


def head_grid(
    panels: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    panel_titles: Sequence[str],
    title: str,
    style: Style = NORMAL,
    columns: int = 4,
    highlight_row: int | None = None,
    zmin: float = 0.0,
    zmax: float = 1.0,
    fitted: bool = False,
) -> go.Figure:
    """Small multiples of attention matrices on one shared colour scale (0..1 unless fitted), `columns` a row.

    panels: [n, rows, cols], e.g. every head of a layer, or layers x heads for a model view.
    highlight_row: the row (an index into `row_labels`) outlined in every panel: the token in focus.
    """
    panels = np.asarray(panels, dtype=np.float32)
    if panels.ndim != 3 or not 0 < len(panel_titles) == panels.shape[0]:
        raise ValueError(f"Expected [panels, query, key] weights and one title a panel, got shape {panels.shape}.")
    _matrix(panels[0], row_labels, col_labels)
    axes, annotations, plot_height = _panel_grid(panel_titles, max(1, min(columns, len(panels))), style)
    x, y = categories(col_labels), categories(row_labels)
    # Tick labels would collide between panels: the tokens are in each cell's hover instead.
    traces = [
        {"type": "heatmap", "z": panel, "x": x, "y": y, "coloraxis": "coloraxis"}
        | {"xaxis": f"x{n + 1 if n else ''}", "yaxis": f"y{n + 1 if n else ''}"}
        | {"hovertemplate": f"<b>{escape(panel_titles[n])}</b><br>{HOVER}"}
        for n, panel in enumerate(panels)
    ]
    shapes = []
    if highlight_row is not None and 0 <= highlight_row < len(row_labels):
        shapes = [
            _row_outline(f"x{n + 1 if n else ''}", f"y{n + 1 if n else ''}", highlight_row, len(col_labels), style)
            | {"line": {"color": HIGHLIGHT_COLOR, "width": style.line_width}}
            for n in range(len(panels))
        ]
    height = plot_height + GRID_MARGIN["t"] + GRID_MARGIN["b"]
    layout = base_layout(style, title=title, height=height, margin=GRID_MARGIN) | axes | {"annotations": annotations}
    layout["coloraxis"] = {"colorscale": COLOR_SCALE, "cmin": float(zmin), "cmax": float(zmax)}
    layout["coloraxis"]["colorbar"] = colorbar(style, title={"text": scale_title(zmin, zmax, fitted=fitted)})
    layout["shapes"] = shapes
    meta = {"row_labels": list(row_labels), "col_labels": list(col_labels), "row_start": 0}
    layout["meta"] = meta | ({"highlight_row": highlight_row} if shapes else {})
    return go.Figure(data=traces, layout=layout)


# A cell the model's mask hides: the page header's colour for a token that may not be seen (page.css).
MASKED_COLOR = "#e5e7eb"


def masked_heatmap(
    matrix: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    subtitle: str | None = None,
    halves: tuple[int, str, str] | None = None,
    style: Style = NORMAL,
    zmin: float = 0.0,
    zmax: float = 1.0,
    fitted: bool = False,
    width_px: int = ASSUMED_WIDTH,
) -> go.Figure:
    """An attention heatmap whose NaN cells are what the model's mask hides: grey, with no hover, never a
    colour of the scale (a hidden weight is not a weight of 0).

    matrix: [rows, cols], NaN where a query token may not see a key token.
    halves: (columns left of a divider, the left half's name, the right half's name), named above the plot.
    """
    figure = attention_heatmap(
        matrix,
        row_labels,
        col_labels,
        title=title,
        subtitle=subtitle,
        style=style,
        zmin=zmin,
        zmax=zmax,
        fitted=fitted,
        width_px=width_px,
    )
    figure.update_traces(hoverongaps=False)
    figure.layout.plot_bgcolor = MASKED_COLOR
    if halves is None or not 0 < halves[0] < len(col_labels):
        return figure
    split, left, right = halves
    # A dark line under a light one: the divider shows on every colour of the scale and on grey.
    line = {"type": "line", "xref": "x", "yref": "paper", "x0": split - 0.5, "x1": split - 0.5, "y0": 0, "y1": 1}
    figure.layout.shapes = [
        line | {"line": {"color": OUTLINE, "width": 4 * style.line_width}},
        line | {"line": {"color": "white", "width": 1.5 * style.line_width}},
    ]
    room = int(1.8 * style.font_size)  # above the plot, below the title: the halves' names
    layout = figure.layout
    total = layout.height
    pad = (1 - layout.title.y) * total  # the title stays where it was, in pixels from the top
    layout.height, layout.margin.t = total + room, layout.margin.t + room
    layout.title.y = round(1 - pad / layout.height, 4)
    name = {"xref": "x", "yref": "paper", "y": 1, "yanchor": "bottom", "showarrow": False}
    name |= {"font": {"size": style.font_size}}
    layout.annotations = [
        name | {"x": (split - 1) / 2, "text": escape(left)},
        name | {"x": split + (len(col_labels) - split - 1) / 2, "text": escape(right)},
    ]
    return figure
