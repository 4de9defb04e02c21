"""Head summaries drawn: one layers x heads heatmap per number (entropy, distance, sinks, previous token)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.explorer.shaping import head_summaries, strongest_heads
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
MIN_CELL_FONT = 10  # px: smaller cell numbers cannot be read; the hover still gives every value


def summary_figure(maps: AttentionMaps, *, style: Style, title: str = SUMMARY_TITLE) -> go.Figure:
    """Every head of `maps` summarised (see `shaping.head_summaries`), drawn; the subtitle names the
    strongest head of each kind."""
    summaries = head_summaries(maps)
    return summary_heatmaps(summaries.as_dict(), title=title, style=style, subtitle=strongest_heads(summaries))


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


def _summary_axes(
    figure: go.Figure, layers: int, heads: int, *, panel_px: tuple[float, float], style: Style, columns: int
) -> None:
    """Layer 1 on top; head numbers under each panel, layer names left of the first column, thinned to fit."""
    heads_axis = [f"Head {n}" for n in range(1, heads + 1)], [str(n) for n in range(1, heads + 1)]
    layers_axis = [f"Layer {n}" for n in range(1, layers + 1)]
    lines = axis_lines(style) | {"automargin": False}
    figure.update_xaxes(title_text="head", **thin_ticks(*heads_axis, length_px=panel_px[0], style=style), **lines)
    figure.update_yaxes(
        autorange="reversed", **thin_ticks(layers_axis, layers_axis, length_px=panel_px[1], style=style)
    )
    figure.update_yaxes(**lines)
    if columns > 1:
        figure.update_yaxes(ticks="", col=2)  # shared with column 1; tick marks would poke at its colour bar
    figure.update_annotations(font_size=style.font_size)


def _cell_font(panel_w: float, panel_h: float, layers: int, heads: int, style: Style) -> int:
    """The font of the numbers in the cells: as large as a cell holds, up to the style's; 0 when too small to read."""
    font = min(style.font_size, int(panel_w / heads / 3.2), int(panel_h / layers / 1.3))
    return font if layers * heads <= 400 and font >= MIN_CELL_FONT else 0


def summary_heatmaps(
    metrics: Mapping[str, np.ndarray], *, title: str, style: Style = NORMAL, subtitle: str | None = None
) -> go.Figure:
    """One layers x heads heatmap per metric, each with its colour bar beside it; layer 1 on top.

    Two panels a row, or one when only that leaves room for numbers that can be read in the cells.
    metrics: name -> [layers, heads], all the same shape; NaN cells stay blank.
    """
    names = list(metrics)
    arrays = [np.asarray(metrics[name], dtype=np.float32) for name in names]
    if not arrays or any(a.ndim != 2 or a.shape != arrays[0].shape for a in arrays):
        raise ValueError("Expected one or more [layers, heads] arrays of the same shape.")
    (layers, heads), font = arrays[0].shape, style.font_size
    bar_px = int(4.5 * font) + 20  # a colour bar with its tick labels, right of each panel
    margin = {"t": TOP + font, "l": int(5.5 * font) + 10, "r": bar_px, "b": 4 * font}
    plot_width = ASSUMED_WIDTH - margin["l"] - margin["r"]
    panel_h = layers * max(18, int(1.7 * font))
    columns = min(2, len(names))
    panel_w = (plot_width - bar_px * (columns - 1)) / columns
    wider = columns > 1 and not _cell_font(panel_w, panel_h, layers, heads, style)
    if wider and _cell_font(plot_width, panel_h, layers, heads, style):
        columns, panel_w = 1, plot_width
    text_font = _cell_font(panel_w, panel_h, layers, heads, style)
    grid_rows = math.ceil(len(names) / columns)
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
    for k, (name, values) in enumerate(zip(names, arrays, strict=True)):
        suffix = "" if k == 0 else str(k + 1)
        x1, (y0, y1) = figure.layout[f"xaxis{suffix}"].domain[1], figure.layout[f"yaxis{suffix}"].domain
        beside = {"x": x1 + 8 / plot_width, "xanchor": "left", "y": (y0 + y1) / 2, "len": y1 - y0, "thickness": 12}
        trace = _metric_trace(name, values, colorbar=colorbar(style, **beside), text_font=text_font)
        figure.add_trace(trace, row=k // columns + 1, col=k % columns + 1)
    _summary_axes(figure, layers, heads, panel_px=(panel_w, panel_h), style=style, columns=columns)
    height = int(plot_height) + margin["t"] + margin["b"]
    layout = base_layout(style, title=title, height=height, margin=margin, subtitle=subtitle)
    figure.update_layout(**layout, meta={"metrics": names, "strongest": subtitle or ""})
    return figure
