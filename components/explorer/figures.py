"""The explorer's figures: pure functions from attention arrays and token labels to Plotly figures.

Weights go to Plotly as float32 numpy arrays, so they travel as compact base64 (`bdata`, dtype f4).
Shown labels are escaped and cut (see `components.plots`); the raw labels sit in `layout.meta`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.plots import (
    ASSUMED_WIDTH,
    BAR_COLOR,
    COLOR_SCALE,
    HIGHLIGHT_COLOR,
    NORMAL,
    OUTLINE,
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

TICK_ANGLE = -60
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
    style: Style = NORMAL,
    row_start: int = 0,
    highlight_row: int | None = None,
    zmax: float = 1.0,
) -> go.Figure:
    """Heatmap of one attention matrix, optionally a window of its rows.

    matrix: [rows, cols]; row i is query token `row_start + i`, column j key token j.
    highlight_row: absolute query index to outline; ignored when outside the window.
    """
    matrix = _matrix(matrix, row_labels, col_labels)
    rows, cols = matrix.shape
    margin = {"t": TOP, "l": label_margin(style), "b": label_margin(style, angle=TICK_ANGLE), "r": COLORBAR}
    height = min(1000, max(380, margin["t"] + margin["b"] + int(1.8 * style.font_size * rows)))
    focus = highlight_row - row_start if highlight_row is not None and 0 <= highlight_row - row_start < rows else None
    heatmap = go.Heatmap(
        z=matrix,
        x=categories(col_labels),
        y=categories(row_labels, row_start),
        zmin=0.0,
        zmax=zmax,
        colorscale=COLOR_SCALE,
        colorbar=colorbar(style, title={"text": "weight"}),
        hovertemplate=HOVER,
    )
    x_ticks = label_ticks(col_labels, length_px=ASSUMED_WIDTH - margin["l"] - margin["r"], style=style)
    y_ticks = label_ticks(
        row_labels, length_px=height - margin["t"] - margin["b"], style=style, start=row_start, anchor=focus
    )
    shapes = []
    if focus is not None:
        _bold_tick(y_ticks, categories(row_labels, row_start)[focus])
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": -0.5,
                "x1": cols - 0.5,
                "y0": focus - 0.5,
                "y1": focus + 0.5,
                "line": {"color": HIGHLIGHT_COLOR, "width": 2 * style.line_width},
            }
        )
    layout = {
        **base_layout(style, title=title, height=height, margin=margin),
        "xaxis": axis("key token (attended to)", style, tickangle=TICK_ANGLE, **x_ticks),
        "yaxis": axis("query token (attending)", style, autorange="reversed", **y_ticks),
        "shapes": shapes,
        "meta": {"row_labels": list(row_labels), "col_labels": list(col_labels), "row_start": row_start},
    }
    return go.Figure(data=[heatmap], layout=layout)


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
) -> go.Figure:
    """Small multiples of attention matrices on one 0..1 colour scale, `columns` panels a row.

    panels: [n, rows, cols], e.g. every head of a layer, or layers x heads for a model view.
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
    height = plot_height + GRID_MARGIN["t"] + GRID_MARGIN["b"]
    layout = base_layout(style, title=title, height=height, margin=GRID_MARGIN) | axes | {"annotations": annotations}
    layout["coloraxis"] = {"colorscale": COLOR_SCALE, "cmin": 0.0, "cmax": 1.0}
    layout["coloraxis"]["colorbar"] = colorbar(style, title={"text": "weight"})
    layout["meta"] = {"row_labels": list(row_labels), "col_labels": list(col_labels), "row_start": 0}
    return go.Figure(data=traces, layout=layout)


def focus_bars(weights: np.ndarray, col_labels: Sequence[str], *, title: str, style: Style = NORMAL) -> go.Figure:
    """Where one query token attends: a bar per key token, the largest highlighted and labelled.

    weights: [cols].
    """
    weights = np.asarray(weights, dtype=np.float32)
    if weights.shape != (len(col_labels),):
        raise ValueError(f"Weights of shape {weights.shape} do not match {len(col_labels)} key tokens.")
    peak = float(np.nanmax(weights)) if weights.size else 0.0
    tops = np.flatnonzero(weights == peak)
    names = categories(col_labels)
    bars = go.Bar(
        x=names,
        y=weights,
        marker={
            "color": [HIGHLIGHT_COLOR if w == peak else BAR_COLOR for w in weights],
            "line": {
                "color": OUTLINE,
                "width": np.where(weights == peak, 1.5 * style.line_width, 0).astype(np.float32),
            },
        },
        hovertemplate="key: <b>%{x}</b><br>weight: %{y:.3f}<extra></extra>",
    )
    annotations = [  # a uniform row ties everywhere: label a few bars, not hundreds
        {
            "x": names[j],
            "y": peak,
            "text": f"{peak:.2f}",
            "showarrow": False,
            "yanchor": "bottom",
            "yshift": 3,
            "font": {"size": style.font_size},
        }
        for j in tops[:5]
    ]
    margin = {"t": TOP, "l": 5 * style.font_size + 20, "b": label_margin(style, angle=TICK_ANGLE), "r": 30}
    x_ticks = label_ticks(col_labels, length_px=ASSUMED_WIDTH - margin["l"] - margin["r"], style=style)
    layout = {
        **base_layout(style, title=title, height=margin["t"] + margin["b"] + 320, margin=margin),
        "xaxis": axis("key token (attended to)", style, tickangle=TICK_ANGLE, **x_ticks),
        "yaxis": axis("weight", style, range=[0, max(peak * 1.15, 0.05)]),
        "annotations": annotations,
        "meta": {"col_labels": list(col_labels)},
    }
    return go.Figure(data=[bars], layout=layout)


def top_tokens_bars(
    tokens: Sequence[str],
    before: Sequence[float],
    after: Sequence[float],
    chosen: int,
    *,
    title: str,
    style: Style = NORMAL,
) -> go.Figure:
    """Next-token candidates of one generation step, most likely on top, before and after sampling settings.

    tokens, before, after: [n] in display order; `chosen` indexes the sampled token (no mark if out of range).
    """
    if not len(tokens) == len(before) == len(after):
        raise ValueError(f"Got {len(tokens)} tokens but {len(before)} and {len(after)} probabilities.")
    names = [f"{i + 1}. {escape(token)}" for i, token in enumerate(tokens)]
    ticktext = [tick_label(token, style) for token in tokens]
    is_chosen = np.arange(len(tokens)) == chosen
    if is_chosen.any():
        ticktext[chosen] = f"<b>▶ {ticktext[chosen]} (chosen)</b>"
    line = {"color": OUTLINE, "width": np.where(is_chosen, 2 * style.line_width + 1, 0).astype(np.float32)}
    bars = [
        go.Bar(
            name=name,
            x=np.asarray(values, dtype=np.float32),
            y=names,
            orientation="h",
            marker={"color": color, "line": line},
            text=[f"{p:.1%}" for p in values],
            textposition="auto",
            hovertemplate="%{y}<br>" + name + ": %{x:.1%}<extra></extra>",
        )
        for name, values, color in (
            ("before: softmax of the logits", before, BAR_COLOR),
            ("after: temperature, top-k, top-p", after, SECOND_COLOR),
        )
    ]
    margin = {"t": TOP + 4 * style.font_size, "l": label_margin(style) + 7 * style.font_size, "r": 30, "b": 70}
    height = margin["t"] + margin["b"] + int(3 * style.font_size) * max(len(tokens), 3)
    layout = {
        **base_layout(style, title=title, height=height, margin=margin),
        "xaxis": axis("probability", style, range=[0, 1], tickformat=".0%"),
        "yaxis": axis(
            "", style, type="category", autorange="reversed", tickmode="array", tickvals=names, ticktext=ticktext
        ),
        "barmode": "group",
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "meta": {"tokens": list(tokens), "chosen": chosen},
    }
    return go.Figure(data=bars, layout=layout)
