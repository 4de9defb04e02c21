"""The explorer's bar charts: where the token in focus attends, and a generation step's next-token candidates.

Pure functions from weights and labels to Plotly figures, like `figures`; labels are escaped and cut.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.explorer.figures import TICK_ANGLE
from components.plots import (
    BAR_COLOR,
    HIGHLIGHT_COLOR,
    NORMAL,
    OUTLINE,
    SECOND_COLOR,
    SIDE_WIDTH,
    TOP,
    Style,
    axis,
    base_layout,
    categories,
    escape,
    label_margin,
    label_ticks,
    tick_label,
)


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
    margin = {"t": TOP, "l": 5 * style.font_size + 20, "r": 30}
    margin["b"] = label_margin(style, angle=TICK_ANGLE, labels=col_labels)
    x_ticks = label_ticks(col_labels, length_px=SIDE_WIDTH - margin["l"] - margin["r"], style=style, angle=TICK_ANGLE)
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
        ticktext[chosen] = f"<b>▶ {ticktext[chosen]}</b>"  # the title says ▶ is the chosen token
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
    # Room for the labels shown (and "▶ "), not for the longest label allowed: in a projector's 22 px font the
    # allowance left a 50 px wide plot in the explorer's side column.
    shown = [tick_label(token, style) + "▶ " for token in tokens]
    margin = {"t": TOP + 4 * style.font_size, "l": label_margin(style, labels=shown), "r": 30, "b": 70}
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
