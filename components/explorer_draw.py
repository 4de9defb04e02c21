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
from services.text import as_whole_number, blank, echo

Rows = tuple[tuple[int, ...], ...]  # the token positions behind each shown row
MAX_CELLS = 150_000  # float32 weights in one figure: about 800 KB once base64-encoded
VIEWS = {
    "heatmap": "One head, mean or max",
    "heads": "Every head of the layer",
    "model": "Every layer and head (model view)",
}


@dataclass(frozen=True)
class ViewSettings:
    """What the visitor picked, as sent: layer, head and step count from 1, `focus` is a token position or a word.

    `draw` checks them against the run, so an API client's odd values get a message, not a traceback.
    """

    view: Any = "heatmap"
    layer: Any = None
    head: Any = "mean"
    focus: Any = None
    step: Any = None
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
    if not isinstance(settings.view, str) or settings.view not in VIEWS:
        raise InputError(f"View must be one of {', '.join(VIEWS)}, not {echo(settings.view)}.")
    layer = maps.layer_index(settings.layer) + 1
    head = maps.head_choice(settings.head)
    switches = {"merge_words": settings.merge_words, "hide_special": settings.hide_special}
    shaped, matrix = am.layer_view(maps, layer, head, **switches)
    step = _step(maps, settings.step)
    focus = str(maps.steps[step - 1].query) if step is not None and settings.focus is None else settings.focus
    row, note = _focus_row(maps, focus, shaped)
    positions = shaped.rows[row]
    step = _step_at(maps, positions, step)
    style = style_for(settings.presenter)
    weights = am.focus_row(maps, positions, layer, head, **switches)
    sentence = am.focus_sentence(shaped.row_labels[row], shaped.col_labels, weights, layer=layer, head=head)
    sentence, top = _step_story(maps, step, sentence, style)
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
        sentence=f"{note} {sentence}" if note else sentence,
        top_figure=top,
    )


def _step_story(maps: AttentionMaps, step: int | None, sentence: str, style: Style) -> tuple[str, go.Figure | None]:
    """The focus sentence told as decoding step `step`, and that step's next-token candidates."""
    if step is None:
        return sentence, None
    chosen = maps.steps[step - 1]
    sentence = f"Step {step} writes '{chosen.token}': {sentence}"
    if chosen.top is None:
        return sentence, None
    top = chosen.top
    title = f"Step {step}: the next-token candidates"
    return sentence, top_tokens_bars(top.tokens, top.before, top.after, top.chosen, title=title, style=style)


def _focus_row(maps: AttentionMaps, focus: Any, shaped: am.Shaped) -> tuple[int, str]:
    """The row of the query token in focus, and a note when 'Hide special tokens' hides that token.

    A hidden token gives way to its nearest shown row instead of failing: the focus dropdown still
    holds the old token when the switch is ticked, and a decoder's first step reads from a special token.
    """
    if blank(focus):
        return am.resolve_focus(maps, None, shaped.rows), ""
    position = _focus_position(maps, str(focus).strip(), shaped.rows)
    for row, group in enumerate(shaped.rows):
        if position in group:
            return row, ""
    row = _nearest_row(shaped.rows, position)
    hidden, shown = maps.query.tokens[position], shaped.row_labels[row]
    return row, (
        f"'{hidden}' is a special token, hidden by 'Hide special tokens': showing '{shown}' instead; "
        f"untick it to see '{hidden}'."
    )


def _focus_position(maps: AttentionMaps, text: str, rows: Rows) -> int:
    """The query position `text` names: a position ("7", "#7"), or a token or word of the input ("it", "[CLS]")."""
    last = len(maps.query) - 1
    digits = text.lstrip("#")
    if digits.isdigit():
        number = as_whole_number(digits)
        if number is None:  # "²" is a digit to isdigit(), not to int(); so are 5,000 digits
            raise InputError(
                f"The query token in focus must be a position from 0 to {last} or a token of this input, "
                f"not {echo(text)}."
            )
        if not 0 <= number <= last:
            raise InputError(f"Token position {echo(number)} does not exist; this input has positions 0 to {last}.")
        return number
    try:
        return rows[am.resolve_focus(maps, text, rows)][0]
    except InputError:
        hidden = _special_named(maps, text)
        if hidden is None:
            raise InputError(
                f"{echo(text)} is not a token or word of this input; pick the query token in focus from the list, "
                f"or give a position from 0 to {last}."
            ) from None
        return hidden


def _special_named(maps: AttentionMaps, text: str) -> int | None:
    """The position of the special token written `text` ("[CLS]", "</s>"), if the input has one."""
    wanted = text.casefold()
    query = maps.query
    return next((p for p, token in enumerate(query.tokens) if query.special[p] and token.casefold() == wanted), None)


def _nearest_row(rows: Rows, position: int) -> int:
    """The shown row closest to `position`; on a tie the later one, as the text reads on."""

    def distance(row: int) -> tuple[int, bool]:
        return min(abs(p - position) for p in rows[row]), rows[row][0] < position

    return min(range(len(rows)), key=distance)


def step_focus(maps: AttentionMaps, step: Any) -> str | None:
    """The query position of decoding step `step` (from 1), as a focus value."""
    number = _step(maps, step)
    return None if number is None else str(maps.steps[number - 1].query)


def _step_at(maps: AttentionMaps, positions, preferred: int | None) -> int | None:
    """The decoding step whose query is the token in focus (the preferred one if it qualifies)."""
    here = [n for n, step in enumerate(maps.steps, start=1) if step.query in positions]
    if preferred in here:
        return preferred
    return here[0] if here else None


def _step(maps: AttentionMaps, step: Any) -> int | None:
    """Decoding step `step`, counted from 1: the first when blank, None when the run has no steps."""
    if not maps.steps:
        return None
    if blank(step):
        return 1
    last = len(maps.steps)
    number = as_whole_number(step)
    if number is None:
        raise InputError(f"Decoding step must be a whole number from 1 to {last}, not {echo(step)}.")
    if not 1 <= number <= last:
        raise InputError(f"Step {echo(number)} does not exist; this run has steps 1 to {last}.")
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
        "focus": None if blank(view.get("focus")) else view.get("focus"),
        "step": None if blank(view.get("step")) else view.get("step"),
        "merge_words": bool(view.get("merge_words")),
        "hide_special": bool(view.get("hide_special")),
        "presenter": bool(view.get("presenter")),
    }
    return ViewSettings(**(values | overrides))


def item_index(value: Any, count: int, *, label: str = "Input") -> int:
    """Which of a run's `count` inputs to show, from 0; blank means the first. `label` names the control."""
    if blank(value):
        return 0
    number = as_whole_number(value)
    if number is None:
        raise InputError(f"{label} must be a number from 0 to {count - 1}, not {echo(value)}.")
    if not 0 <= number < count:
        raise InputError(f"{label} {echo(number)} does not exist; this run has {label.lower()}s 0 to {count - 1}.")
    return number
