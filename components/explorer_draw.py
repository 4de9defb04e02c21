"""Turn one run's attention and the explorer's settings into figures and sentences.

No Gradio here: `draw` is a function of an `AttentionMaps` and a `ViewSettings`, so it is tested
without a browser. Every response stays under about 1 MB: the main figure holds at most
MAX_CELLS float32 weights (a full-resolution window of rows when the input is long), and grids
are block-averaged or replaced by per-head summaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from components.attention_plots import attention_heatmap, focus_bars, head_grid, summary_heatmaps
from components.plots import Style, style_for, top_tokens_bars
from services import attention_math as am
from services.attention_maps import AttentionMaps
from services.errors import InputError

MAX_CELLS = 150_000  # float32 weights in one figure: about 800 KB once base64-encoded
VIEWS = {
    "heatmap": "One head, mean or max",
    "heads": "Every head of the layer",
    "model": "Every layer and head (model view)",
}


@dataclass(frozen=True)
class ViewSettings:
    """What the visitor picked; layer and head count from 1, `focus` is a token position or a word."""

    view: str = "heatmap"
    layer: int | str | None = None
    head: int | str | None = "mean"
    focus: int | str | None = None
    step: int | None = None
    merge_words: bool = False
    hide_special: bool = False
    presenter: bool = False


@dataclass(frozen=True)
class Drawing:
    """Everything the explorer shows for one setting."""

    layer: int
    head: str
    focus_choices: list[tuple[str, str]]
    focus: str
    step: int | None
    main: go.Figure
    matrix: np.ndarray  # [rows, cols]: the whole matrix of the chosen layer and head, unwindowed
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    focus_figure: go.Figure
    sentence: str
    top_figure: go.Figure | None


def draw(maps: AttentionMaps, settings: ViewSettings) -> Drawing:
    """Validate the settings against this run and draw the chosen view, focus and step."""
    if settings.view not in VIEWS:
        raise InputError(f"View must be one of {', '.join(VIEWS)}, not {settings.view!r}.")
    layer = maps.layer_index(settings.layer) + 1
    head = maps.head_choice(settings.head)
    switches = {"merge_words": settings.merge_words, "hide_special": settings.hide_special}
    shaped, matrix = am.layer_view(maps, layer, head, **switches)
    step = _step(maps, settings.step)
    focus = str(maps.steps[step - 1].query) if step is not None and settings.focus is None else settings.focus
    row = am.resolve_focus(maps, focus, shaped.rows)
    positions = shaped.rows[row]
    step = _step_at(maps, positions, step)
    style = style_for(settings.presenter)
    weights = am.focus_row(maps, positions, layer, head, **switches)
    sentence = am.focus_sentence(shaped.row_labels[row], shaped.col_labels, weights, layer=layer, head=head)
    top = None
    if step is not None:
        chosen = maps.steps[step - 1]
        sentence = f"Step {step} writes '{chosen.token}': {sentence}"
        if chosen.top is not None:
            top = top_tokens_bars(
                chosen.top.tokens,
                chosen.top.before,
                chosen.top.after,
                chosen.top.chosen,
                title=f"Step {step}: the next-token candidates",
                style=style,
            )
    return Drawing(
        layer=layer,
        head=head,
        focus_choices=[
            (f"{label} (#{group[0]})", str(group[0]))
            for label, group in zip(shaped.row_labels, shaped.rows, strict=True)
        ],
        focus=str(positions[0]),
        step=step,
        main=_main_figure(maps, settings, shaped, matrix, layer, head, row),
        matrix=matrix,
        row_labels=shaped.row_labels,
        col_labels=shaped.col_labels,
        focus_figure=focus_bars(
            weights,
            shaped.col_labels,
            title=f"Where '{shaped.row_labels[row]}' attends: {am.where(layer, head)}",
            style=style,
        ),
        sentence=sentence,
        top_figure=top,
    )


def step_focus(maps: AttentionMaps, step: int | None) -> str | None:
    """The query position of decoding step `step` (from 1), as a focus value."""
    number = _step(maps, step)
    return None if number is None else str(maps.steps[number - 1].query)


def _step_at(maps: AttentionMaps, positions, preferred: int | None) -> int | None:
    """The decoding step whose query is the token in focus (the preferred one if it qualifies)."""
    here = [n for n, step in enumerate(maps.steps, start=1) if step.query in positions]
    if preferred in here:
        return preferred
    return here[0] if here else None


def _step(maps: AttentionMaps, step: int | None) -> int | None:
    if not maps.steps:
        return None
    if step is None or step == "":
        return 1
    number = int(step)
    if not 1 <= number <= len(maps.steps):
        raise InputError(f"Step {number} does not exist; this run has steps 1 to {len(maps.steps)}.")
    return number


def _main_figure(maps, settings, shaped, matrix, layer: int, head: str, row: int) -> go.Figure:
    style = style_for(settings.presenter)
    which = am.where(layer, head)
    if settings.view == "heatmap":
        rows = am.window(len(shaped.rows), len(shaped.cols), around=row, max_cells=MAX_CELLS)
        title = f"{maps.title}: {which}"
        if len(rows) < len(shaped.rows):
            title += f" (rows {rows.start}–{rows.stop - 1} of {len(shaped.rows)}; pick a query token to move)"
        return attention_heatmap(
            matrix[rows.start : rows.stop],
            shaped.row_labels[rows.start : rows.stop],
            shaped.col_labels,
            title=title,
            style=style,
            row_start=rows.start,
            highlight_row=row,
            zmax=_zmax(matrix, head),
        )
    if settings.view == "heads":
        return _grid(
            shaped.weights,
            shaped,
            [f"Head {h + 1}" for h in range(maps.num_heads)],
            4,
            f"Layer {layer}: every head",
            style,
        )
    return _model_view(maps, settings, style)


def _zmax(matrix: np.ndarray, head: str) -> float:
    """Rows of one head or the mean sum to 1, so 0..1 compares heads; the max of heads needs its own top."""
    return 1.0 if head != "max" else float(max(1e-6, matrix.max()))


def _grid(panels: np.ndarray, shaped: am.Shaped, titles: list[str], columns: int, title: str, style) -> go.Figure:
    side = max(1, int(np.sqrt(MAX_CELLS / len(panels))))
    small, block = am.downsample(panels, side)
    rows, cols = shaped.row_labels, shaped.col_labels
    if block > 1:
        title += f" (each cell averages {block}×{block} tokens)"
        rows, cols = rows[::block], cols[::block]
    return head_grid(small, rows, cols, panel_titles=titles, title=title, style=style, columns=columns)


def _model_view(maps: AttentionMaps, settings: ViewSettings, style) -> go.Figure:
    """Every layer x head as thumbnails when they fit; per-head summaries for long inputs."""
    switches = {"merge_words": settings.merge_words, "hide_special": settings.hide_special}
    side = len(am.groups(maps.query, **switches)) * len(am.groups(maps.key, **switches))
    cells = maps.num_layers * maps.num_heads * side
    if cells > MAX_CELLS:
        return summary_figure(
            maps, style=style, title="Model view of a long input: one number per head (pick a layer to see its heads)"
        )
    every = am.shape(maps, maps.weights, **switches)
    panels = every.weights.reshape(-1, *every.weights.shape[-2:])
    titles = [f"L{layer + 1} H{head + 1}" for layer in range(maps.num_layers) for head in range(maps.num_heads)]
    return _grid(panels, every, titles, maps.num_heads, "Model view: every layer (rows) and head (columns)", style)


def summary_figure(
    maps: AttentionMaps,
    *,
    style: Style,
    title: str = "Each head in one number (find previous-token, broad and sink heads)",
) -> go.Figure:
    return summary_heatmaps(am.head_summaries(maps).as_dict(), title=title, style=style)


def settings_from(view: Mapping[str, Any], **overrides: Any) -> ViewSettings:
    """ViewSettings from the controls' values as Gradio passes them ("" and None mean the default)."""
    values = {
        "view": view.get("view") or "heatmap",
        "layer": view.get("layer"),
        "head": view.get("head"),
        "focus": view.get("focus") if view.get("focus") not in ("", None) else None,
        "step": as_int(view.get("step"), None),
        "merge_words": bool(view.get("merge_words")),
        "hide_special": bool(view.get("hide_special")),
        "presenter": bool(view.get("presenter")),
    }
    return ViewSettings(**(values | overrides))


def as_int(value: Any, default: int | None) -> int | None:
    """`value` as an int, or `default` when it is empty or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
