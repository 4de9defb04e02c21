"""The attention lens: where each query token's attention goes, in one head, a layer's heads, or the model.

No Gradio here: `draw` is a function of an `AttentionMaps` and a parsed `View`, so it is tested
without a browser. Every response stays under about 1 MB: the main figure holds at most
MAX_CELLS float32 weights (a full-resolution window of rows when the input is long), and grids
are block-averaged or replaced by per-head summaries.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from components.explorer import shaping
from components.explorer.bars import focus_bars, top_tokens_bars
from components.explorer.drawing import Drawing
from components.explorer.figures import attention_heatmap, color_range, head_grid
from components.explorer.summary_figure import summary_figure
from components.explorer.view import View
from components.plots import Style, style_for
from services.attention_maps import AttentionMaps

Rows = tuple[tuple[int, ...], ...]  # the token positions behind each shown row
MAX_CELLS = 150_000  # float32 weights in one figure: about 800 KB once base64-encoded


NOTE = """**Attention** shows where each token read from, in every layer and head of the run that answered.
It is a picture of information flow, not an explanation: a heavily attended token need not have
changed the answer ("attention is not explanation", Jain and Wallace, 2019), and heads often park
attention on special tokens when they have nothing to do. The other lenses test the answer itself."""


class AttentionLens:
    name = "attention"
    label = "Attention: where each token looks"
    note = NOTE

    def key(self, view: View) -> tuple:
        return ()

    def compute(self, maps: AttentionMaps, view: View, limits) -> None:
        """Nothing to compute: the run's own attention is drawn."""
        return None

    def draw(self, maps: AttentionMaps, view: View) -> Drawing:
        shaped, matrix = shaping.layer_view(maps, view.layer, view.head, **view.switches)
        focus = maps.steps[view.step - 1].query if view.step is not None and view.focus is None else view.focus
        row, note = _focus_row(maps, focus, shaped)
        positions = shaped.rows[row]
        step = _step_at(maps, positions, view.step)
        style = style_for(view.presenter)
        weights = shaping.focus_row(maps, positions, view.layer, view.head, **view.switches)
        label = shaped.row_labels[row]
        sentence = shaping.focus_sentence(label, shaped.col_labels, weights, layer=view.layer, head=view.head)
        if _starts_decoder(maps, positions):  # "'<pad>' (the decoder's start token) attends most to …"
            sentence = sentence.replace(f"'{label}'", f"'{label}' ({START_NOTE})", 1)
        sentence, top = _step_story(maps, step, sentence, style)
        notes = [note, *shaping.idle_switches(maps, **view.switches)]
        return Drawing(
            focus_choices=[
                (f"{label} (#{group[0]})", str(group[0]))
                for label, group in zip(shaped.row_labels, shaped.rows, strict=True)
            ],
            focus=str(positions[0]),
            step=step,
            main=_main_figure(maps, view, shaped, matrix, row),
            matrix=matrix,
            row_labels=shaped.row_labels,
            col_labels=shaped.col_labels,
            focus_figure=focus_bars(
                weights,
                shaped.col_labels,
                title=f"Where '{label}' attends: {shaping.where(view.layer, view.head)}",
                style=style,
            ),
            sentence=" ".join([*filter(None, notes), sentence]),
            top_figure=top,
        )


LENS = AttentionLens()
START_NOTE = "the decoder's start token"


def _starts_decoder(maps: AttentionMaps, positions) -> bool:
    """Whether the query positions hold the decoder's start token (Marian's <pad>, BART's </s>)."""
    return maps.query.starts_decoder and 0 in positions


def _title(maps: AttentionMaps, view: View, what: str, shaped: shaping.Shaped, *, first_row: int = 0) -> str:
    """A figure's title: what is drawn, the switches in force, and what an odd first row is when it is shown
    (`first_row`: the first row the figure shows)."""
    title = " · ".join([what, *shaping.switches_in_force(**view.switches)])
    if first_row == 0 and shaped.rows and _starts_decoder(maps, shaped.rows[0]):
        title += f" (first row '{shaped.row_labels[0]}': {START_NOTE})"
    return title


def _step_story(maps: AttentionMaps, step: int | None, sentence: str, style: Style) -> tuple[str, go.Figure | None]:
    """The focus sentence told as decoding step `step`, and that step's next-token candidates."""
    if step is None:
        return sentence, None
    chosen = maps.steps[step - 1]
    sentence = f"Step {step} writes '{chosen.text}': {sentence}"
    if chosen.top is None:
        return sentence, None
    top = chosen.top
    title = f"Step {step}: the next-token candidates (▶ chosen)"
    return sentence, top_tokens_bars(top.texts, top.before, top.after, top.chosen, title=title, style=style)


def _focus_row(maps: AttentionMaps, position: int | None, shaped: shaping.Shaped) -> tuple[int, str]:
    """The row of the query token in focus, and a note when 'Hide special tokens' hides that token.

    A hidden token gives way to its nearest shown row instead of failing: the focus dropdown still
    holds the old token when the switch is ticked, and a decoder's first step reads from a special token.
    """
    position = maps.focus if position is None else position  # the run's own focus (fill-mask's mask)
    if position is None:
        return shaping.resolve_focus(maps, None, shaped.rows), ""
    for row, group in enumerate(shaped.rows):
        if position in group:
            return row, ""
    row = _nearest_row(shaped.rows, position)
    hidden, shown = maps.query.texts[position], shaped.row_labels[row]
    return row, (
        f"'{hidden}' is a special token, hidden by 'Hide special tokens': showing '{shown}' instead; "
        f"untick it to see '{hidden}'."
    )


def _nearest_row(rows: Rows, position: int) -> int:
    """The shown row closest to `position`; on a tie the later one, as the text reads on."""

    def distance(row: int) -> tuple[int, bool]:
        return min(abs(p - position) for p in rows[row]), rows[row][0] < position

    return min(range(len(rows)), key=distance)


def _step_at(maps: AttentionMaps, positions, preferred: int | None) -> int | None:
    """The decoding step whose query is the token in focus (the preferred one if it qualifies)."""
    here = [n for n, step in enumerate(maps.steps, start=1) if step.query in positions]
    if preferred in here:
        return preferred
    return here[0] if here else None


def _main_figure(maps: AttentionMaps, view: View, shaped: shaping.Shaped, matrix: np.ndarray, row: int) -> go.Figure:
    style = style_for(view.presenter)
    which = shaping.where(view.layer, view.head)
    focus = f"outlined: the row of '{shaped.row_labels[row]}'"
    if view.mode == "heatmap":
        rows = shaping.window(len(shaped.rows), len(shaped.cols), around=row, max_cells=MAX_CELLS)
        title = f"{maps.title}: {which}"
        if len(rows) < len(shaped.rows):
            title += f" (rows {rows.start}–{rows.stop - 1} of {len(shaped.rows)}; pick a query token to move)"
        return attention_heatmap(
            matrix[rows.start : rows.stop],
            shaped.row_labels[rows.start : rows.stop],
            shaped.col_labels,
            title=_title(maps, view, title, shaped, first_row=rows.start),
            style=style,
            row_start=rows.start,
            highlight_row=row,
            **color_range(matrix, view.fits_colors(combined=True)),
        )
    if view.mode == "heads":
        titles = [f"Head {h + 1}" for h in range(maps.num_heads)]
        title = _title(maps, view, f"Layer {view.layer}: every head ({focus})", shaped)
        return _grid(shaped.weights, shaped, titles, 4, title, style, row=row, fitted=view.fits_colors(combined=False))
    return _model_view(maps, view, style, row=row, focus=focus)


def _grid(
    panels: np.ndarray,
    shaped: shaping.Shaped,
    titles: list[str],
    columns: int,
    title: str,
    style: Style,
    *,
    row: int,
    fitted: bool,
) -> go.Figure:
    side = max(1, int(np.sqrt(MAX_CELLS / len(panels))))
    small, block = shaping.downsample(panels, side)
    rows, cols = shaped.row_labels, shaped.col_labels
    if block > 1:
        title += f" (each cell averages {block}×{block} tokens)"
        rows, cols = rows[::block], cols[::block]
    return head_grid(
        small,
        rows,
        cols,
        panel_titles=titles,
        title=title,
        style=style,
        columns=columns,
        highlight_row=row // block,
        **color_range(small, fitted),
    )


def _model_view(maps: AttentionMaps, view: View, style: Style, *, row: int, focus: str) -> go.Figure:
    """Every layer x head as thumbnails when they fit; per-head summaries for long inputs."""
    side = len(shaping.groups(maps.query, **view.switches)) * len(shaping.groups(maps.key, **view.switches))
    if maps.num_layers * maps.num_heads * side > MAX_CELLS:
        return summary_figure(
            maps, style=style, title="Model view of a long input: one number per head (pick a layer to see its heads)"
        )
    every = shaping.shape(maps, maps.weights, **view.switches)
    panels = every.weights.reshape(-1, *every.weights.shape[-2:])
    titles = [f"L{layer + 1} H{head + 1}" for layer in range(maps.num_layers) for head in range(maps.num_heads)]
    title = _title(maps, view, f"Model view: every layer (rows) and head (columns); {focus}", every)
    fitted = view.fits_colors(combined=False)
    return _grid(panels, every, titles, maps.num_heads, title, style, row=row, fitted=fitted)
