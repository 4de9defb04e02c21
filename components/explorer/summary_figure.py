"""Head summaries drawn: one layers x heads heatmap per number (entropy, distance, sinks, previous token)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.explorer.shaping import head_summaries
from components.plots import (
    ASSUMED_WIDTH,
    COLOR_SCALE,
    NORMAL,
    TOP,
    Style,
    axis_lines,
    base_layout,
    colorbar,
    escape,
    thin_ticks,
)
from services.attention_maps import AttentionMaps

SUMMARY_TITLE = "Each head in one number (find previous-token, broad and sink heads)"


def summary_figure(maps: AttentionMaps, *, style: Style, title: str = SUMMARY_TITLE) -> go.Figure:
    """Every head of `maps` summarised (see `shaping.head_summaries`), drawn."""
    return summary_heatmaps(head_summaries(maps).as_dict(), title=title, style=style)


def _cell_text(value: float) -> str:
    """At most 4 characters below 1000, to fit a small cell: "0.05", "3.46", "12"; blank for NaN."""
    if math.isnan(value):
        return ""
    return f"{value:.0f}" if abs(value) >= 9.995 else f"{value:.2f}"


def _metric_trace(name: str, values: np.ndarray, *, colorbar: dict, text_font: int) -> go.Heatmap:
    """values: [layers, heads]; the cells carry their values as text when `text_font` is set."""
    layers, heads = values.shape
    cells = {}
    if text_font:
        text = [[_cell_text(float(v)) for v in row] for row in values]
        cells = {"text": text, "texttemplate": "%{text}", "textfont": {"size": text_font}}
    return go.Heatmap(
        z=values,
        x=[f"Head {n}" for n in range(1, heads + 1)],
        y=[f"Layer {n}" for n in range(1, layers + 1)],
        colorscale=COLOR_SCALE,
        colorbar=colorbar,
        hoverongaps=False,
        hovertemplate=f"<b>{escape(name)}</b><br>%{{y}}, %{{x}}: %{{z:.3f}}<extra></extra>",
        **cells,
    )


def _summary_axes(figure: go.Figure, layers: int, heads: int, *, panel_px: tuple[float, float], style: Style) -> None:
    """Layer 1 on top; head numbers under each panel, layer names left of the first column, thinned to fit."""
    heads_axis = [f"Head {n}" for n in range(1, heads + 1)], [str(n) for n in range(1, heads + 1)]
    layers_axis = [f"Layer {n}" for n in range(1, layers + 1)]
    lines = axis_lines(style) | {"automargin": False}
    figure.update_xaxes(title_text="head", **thin_ticks(*heads_axis, length_px=panel_px[0], style=style), **lines)
    figure.update_yaxes(
        autorange="reversed", **thin_ticks(layers_axis, layers_axis, length_px=panel_px[1], style=style)
    )
    figure.update_yaxes(**lines)
    figure.update_yaxes(ticks="", col=2)  # shared with column 1; tick marks would poke at its colour bar
    figure.update_annotations(font_size=style.font_size)


def summary_heatmaps(metrics: Mapping[str, np.ndarray], *, title: str, style: Style = NORMAL) -> go.Figure:
    """One layers x heads heatmap per metric, two a row, each with its colour bar beside it; layer 1 on top.

    metrics: name -> [layers, heads], all the same shape; NaN cells stay blank.
    """
    names = list(metrics)
    arrays = [np.asarray(metrics[name], dtype=np.float32) for name in names]
    if not arrays or any(a.ndim != 2 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError("Expected one or more [layers, heads] arrays of the same shape.")
    (layers, heads), columns, grid_rows = arrays[0].shape, min(2, len(names)), math.ceil(len(names) / 2)
    font = style.font_size
    bar_px = int(4.5 * font) + 20  # a colour bar with its tick labels, right of each panel
    margin = {"t": TOP + font, "l": int(5.5 * font) + 10, "r": bar_px, "b": 4 * font}
    plot_width = ASSUMED_WIDTH - margin["l"] - margin["r"]
    panel_w, panel_h = (plot_width - bar_px * (columns - 1)) / columns, layers * max(18, int(1.7 * font))
    gap_y = 5 * font + 10  # a panel's head ticks and axis title, then the next panel's title
    plot_height = grid_rows * panel_h + (grid_rows - 1) * gap_y
    figure = make_subplots(
        rows=grid_rows,
        cols=columns,
        subplot_titles=[escape(name) for name in names],
        shared_yaxes=True,
        horizontal_spacing=bar_px / plot_width if columns > 1 else 0.0,
        vertical_spacing=gap_y / plot_height if grid_rows > 1 else 0.0,
    )
    text_font = min(font, int(panel_w / heads / 3.2), int(panel_h / layers / 1.3))
    text_font = text_font if layers * heads <= 400 and text_font >= 6 else 0
    for k, (name, values) in enumerate(zip(names, arrays, strict=True)):
        suffix = "" if k == 0 else str(k + 1)
        x1, (y0, y1) = figure.layout[f"xaxis{suffix}"].domain[1], figure.layout[f"yaxis{suffix}"].domain
        beside = {"x": x1 + 8 / plot_width, "xanchor": "left", "y": (y0 + y1) / 2, "len": y1 - y0, "thickness": 12}
        trace = _metric_trace(name, values, colorbar=colorbar(style, **beside), text_font=text_font)
        figure.add_trace(trace, row=k // 2 + 1, col=k % 2 + 1)
    _summary_axes(figure, layers, heads, panel_px=(panel_w, panel_h), style=style)
    height = int(plot_height) + margin["t"] + margin["b"]
    figure.update_layout(**base_layout(style, title=title, height=height, margin=margin), meta={"metrics": names})
    return figure
