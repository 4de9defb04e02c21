"""Plot builders: pure functions from arrays and token lists to Plotly figures.

No model is loaded here. Tokens are HTML-escaped for labels because Plotly renders a subset of
HTML in ticks and hovers (a BART token like `<s>` would otherwise vanish as a strike-through tag);
the raw tokens ride along in `layout.meta` for API clients.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Perceptually uniform and colour-blind safe, readable on a projector.
COLOR_SCALE = "Viridis"
FONT = {"size": 15}
MAX_TICK_LABELS = 64


def _labels(tokens: Sequence[str]) -> list[str]:
    return [html.escape(token) for token in tokens]


def _positions(tokens: Sequence[str]) -> list[str]:
    """Unique axis categories, "token #i": a category axis would merge repeated tokens ("the" … "the").

    Hover labels read them directly, so no per-cell hover data is sent.
    """
    return [f"{label} #{i}" for i, label in enumerate(_labels(tokens))]


def _check_shape(matrix: np.ndarray, query_tokens: Sequence[str], key_tokens: Sequence[str]) -> None:
    if matrix.shape != (len(query_tokens), len(key_tokens)):
        raise ValueError(
            f"Attention matrix of shape {matrix.shape} does not match "
            f"{len(query_tokens)} query tokens x {len(key_tokens)} key tokens."
        )


def _heatmap(matrix: np.ndarray, query_tokens: Sequence[str], key_tokens: Sequence[str], **kwargs) -> go.Heatmap:
    return go.Heatmap(
        z=np.asarray(matrix, dtype=np.float32),
        x=_positions(key_tokens),
        y=_positions(query_tokens),
        zmin=0.0,
        zmax=1.0,
        hovertemplate="query: <b>%{y}</b><br>key: <b>%{x}</b><br>weight: %{z:.3f}<extra></extra>",
        **kwargs,
    )


def _token_ticks(tokens: Sequence[str]) -> dict:
    """Tick labels show the bare tokens, thinned on long inputs so they never overlap."""
    step = max(1, math.ceil(len(tokens) / MAX_TICK_LABELS))
    shown = range(0, len(tokens), step)
    categories, labels = _positions(tokens), _labels(tokens)
    return {
        "type": "category",
        "tickmode": "array",
        "tickvals": [categories[i] for i in shown],
        "ticktext": [labels[i] for i in shown],
    }


def attention_heatmap(
    matrix: np.ndarray, query_tokens: Sequence[str], key_tokens: Sequence[str], *, title: str
) -> go.Figure:
    """Heatmap of one attention matrix.

    matrix: [query_len, key_len], weights in 0..1; row i is query token i, column j key token j.
    """
    matrix = np.asarray(matrix)
    _check_shape(matrix, query_tokens, key_tokens)
    figure = go.Figure(
        _heatmap(matrix, query_tokens, key_tokens, colorscale=COLOR_SCALE, colorbar={"title": {"text": "weight"}})
    )
    figure.update_xaxes(title_text="key token (attended to)", tickangle=-60, **_token_ticks(key_tokens))
    figure.update_yaxes(title_text="query token (attending)", autorange="reversed", **_token_ticks(query_tokens))
    side = max(len(query_tokens), 8)
    figure.update_layout(
        title={"text": html.escape(title)},
        template="none",
        font=FONT,
        height=min(1000, 260 + 22 * side),
        margin={"l": 140, "b": 140, "t": 70, "r": 30},
        meta={"query_tokens": list(query_tokens), "key_tokens": list(key_tokens)},
    )
    return figure


def head_grid(heads: np.ndarray, query_tokens: Sequence[str], key_tokens: Sequence[str], *, title: str) -> go.Figure:
    """Small heatmaps of every head of one layer, on one shared 0..1 colour scale.

    heads: [num_heads, query_len, key_len].
    """
    heads = np.asarray(heads)
    if heads.ndim != 3:
        raise ValueError(f"Expected [heads, query, key] weights, got shape {heads.shape}.")
    _check_shape(heads[0], query_tokens, key_tokens)
    count = heads.shape[0]
    cols = min(4, count)
    rows = math.ceil(count / cols)
    figure = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"Head {h + 1}" for h in range(count)],
        horizontal_spacing=0.03,
        vertical_spacing=0.06,
    )
    for h in range(count):
        figure.add_trace(
            _heatmap(heads[h], query_tokens, key_tokens, coloraxis="coloraxis", name=f"Head {h + 1}"),
            row=h // cols + 1,
            col=h % cols + 1,
        )
    # Small multiples: tokens are in each cell's hover; tick labels would collide between panels.
    figure.update_xaxes(showticklabels=False, type="category")
    figure.update_yaxes(showticklabels=False, type="category", autorange="reversed")
    figure.update_layout(
        title={"text": html.escape(title)},
        template="none",
        font=FONT,
        coloraxis={"colorscale": COLOR_SCALE, "cmin": 0.0, "cmax": 1.0},
        height=260 * rows + 80,
        margin={"t": 90},
        meta={"query_tokens": list(query_tokens), "key_tokens": list(key_tokens)},
    )
    return figure


def score_bars(labels: Sequence[str], scores: Sequence[float], *, title: str) -> go.Figure:
    """Horizontal bars of scores in 0..1, highest on top."""
    order = sorted(range(len(labels)), key=lambda i: scores[i], reverse=True)
    figure = go.Figure(
        go.Bar(
            x=[float(scores[i]) for i in order],
            y=[html.escape(labels[i]) for i in order],
            orientation="h",
            text=[f"{scores[i]:.1%}" for i in order],
            textposition="auto",
            marker_color="#3b528b",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, 1], title_text="score")
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(
        title={"text": html.escape(title)},
        template="none",
        font=FONT,
        height=160 + 40 * len(labels),
        margin={"l": 160},
    )
    return figure


def class_probability_bars(
    rows: Sequence[str], probabilities: Mapping[str, Sequence[float]], *, title: str
) -> go.Figure:
    """Grouped horizontal bars: for each row (a text), one bar per class probability."""
    palette = ["#440154", "#21918c", "#fde725", "#3b528b", "#5ec962"]
    figure = go.Figure(
        [
            go.Bar(
                name=html.escape(label),
                x=[float(p) for p in values],
                y=[html.escape(row) for row in rows],
                orientation="h",
                marker_color=palette[i % len(palette)],
                text=[f"{p:.1%}" for p in values],
                textposition="auto",
                hovertemplate="%{y}<br>" + html.escape(label) + ": %{x:.3f}<extra></extra>",
            )
            for i, (label, values) in enumerate(probabilities.items())
        ]
    )
    figure.update_xaxes(range=[0, 1], title_text="probability")
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(
        title={"text": html.escape(title)},
        barmode="group",
        template="none",
        font=FONT,
        height=160 + 60 * len(rows) * max(1, len(probabilities)) // 2,
        margin={"l": 200},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def short(text: str, limit: int = 40) -> str:
    """A label-sized version of a text."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
