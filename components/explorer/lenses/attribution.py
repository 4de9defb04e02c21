"""The attribution lens: which input tokens moved the answer, beside where attention went.

A classifier's answer gets one score per token (Integrated Gradients), drawn as bars beside the
classification token's attention, with one sentence on whether they agree. Written text gets a
written-tokens x input-tokens matrix (gradient x input), drawn like the attention heatmap and stepped
with the same slider. Merging words sums a word's pieces: attribution adds up, as attention columns do.
"""

from __future__ import annotations

import numpy as np

from components.explorer import shaping
from components.explorer.bars import focus_bars
from components.explorer.drawing import Drawing
from components.explorer.lens_figures import signed_heatmap, token_score_bars
from components.explorer.lenses import common
from components.explorer.view import View
from components.plots import style_for
from services.attention_maps import AttentionMaps
from services.config import Limits

MAX_CELLS = 150_000  # as the attention lens: a window of rows around the step when the matrix is larger

NOTE = """**Attribution** says which input tokens moved this answer: Integrated Gradients for a classifier
(the scores add up to the change in the answer's logit from a baseline of pad tokens), gradient × input
for each written token. It measures sensitivity along one path, from one baseline: a token with a small
score may still matter together with others, and the scores say nothing about *how* the model uses a token.
Attention, beside it, is where information was read from, not what changed the answer: when the two
disagree, attribution is the better guide to the answer, and neither is the model's reasoning."""


class AttributionLens:
    name = "attribution"
    label = "Attribution: which input tokens moved the answer"
    title = "Attribution"
    note = NOTE
    unavailable = "Attribution explains an answer of this run; it has none here."

    def key(self, view: View) -> tuple:
        return ()

    def pending(self, view: View) -> str:
        return "Attribution runs the model again when you choose it under 'Lens': on its way, or choose it again."

    def compute(self, maps: AttentionMaps, view: View, limits: Limits):
        from services.lenses import attribution  # torch and captum load with the first lens, not at startup

        return attribution.attribute(
            maps.recipe, max_seconds=limits.max_lens_seconds, max_bytes=limits.max_attention_bytes
        )

    def draw(self, maps: AttentionMaps, view: View) -> Drawing:
        result = common.result_for(self, maps, view)
        if isinstance(result, Drawing):
            return result
        if result.method == "integrated_gradients":
            return _classifier(maps, view, result)
        return _writer(maps, view, result)


LENS = AttributionLens()


def _classifier(maps: AttentionMaps, view: View, result) -> Drawing:
    style = style_for(view.presenter)
    scores, names, special = common.grouped(result.scores[0], result.axis, view)
    attention = _reader_attention(maps, view)
    choices, focus = common.focus_choices(maps, view)
    reader = str(_reader(maps))
    if any(value == reader for _, value in choices):  # the bars beside are this token's: it is the one in focus
        focus = reader
    difference = float(result.scores.sum()) - result.delta
    story = agreement(attention, scores, names, special)
    story += (
        f" The scores add up to {result.scores.sum():.3g}: the change in {result.target}'s logit from the "
        f"baseline is {difference:.3g}, and Integrated Gradients' convergence delta is {result.delta:.1e}."
    )
    return Drawing(
        focus_choices=choices,
        focus=focus,
        step=None,
        main=token_score_bars(
            scores, names, title=f"Integrated Gradients: what moved the answer toward {result.target}", value="score"
        ),
        matrix=scores[None, :],
        row_labels=(f"→ {result.target}",),
        col_labels=names,
        focus_figure=_attention_bars(attention, names, maps, style),
        sentence=story,
        top_figure=None,
    )


def _reader_attention(maps: AttentionMaps, view: View) -> np.ndarray:
    """The last layer's mean attention from the token the classifier reads ([CLS] for an encoder; the final
    </s> for BART, whose decoder reads the last token), over the shown columns."""
    return shaping.focus_row(maps, [_reader(maps)], maps.num_layers, "mean", **view.switches)


def _reader(maps: AttentionMaps) -> int:
    """The query position the classifier reads."""
    return 0 if maps.facts is None or maps.facts.family == "encoder-only" else len(maps.query) - 1


def _attention_bars(attention: np.ndarray, names, maps: AttentionMaps, style):
    reader = "[CLS]" if maps.facts is None or maps.facts.family == "encoder-only" else "the last token"
    title = f"Where {reader} attends: layer {maps.num_layers}, averaged over heads"
    return focus_bars(attention, names, title=title, style=style)


def agreement(attention: np.ndarray, scores: np.ndarray, names, special) -> str:
    """One sentence: the token each favours, and their rank correlation over the plain (not special) tokens."""
    plain = [i for i, is_special in enumerate(special) if not is_special] or list(range(len(names)))
    by_attention = plain[int(np.argmax(attention[plain]))]
    by_attribution = plain[int(np.argmax(scores[plain]))]
    rho = spearman(attention[plain], scores[plain])
    correlation = f"rank correlation {rho:.2f}" if rho is not None else "too few tokens to correlate"
    if by_attention == by_attribution:
        return f"Attention and attribution both favour '{names[by_attention]}' ({correlation})."
    return f"Attention favours '{names[by_attention]}'; attribution favours '{names[by_attribution]}' ({correlation})."


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation (ties share their mean rank); None for fewer than 2 values or a constant."""
    if len(a) < 2:
        return None
    ra, rb = _ranks(np.asarray(a, dtype=np.float64)), _ranks(np.asarray(b, dtype=np.float64))
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def _writer(maps: AttentionMaps, view: View, result) -> Drawing:
    style = style_for(view.presenter)
    matrix, names, special = common.grouped(result.scores, result.axis, view)
    step = common.step_in_view(maps, view)
    row = step - 1
    written = result.target_texts or result.targets
    rows = shaping.window(len(written), len(names), around=row, max_cells=MAX_CELLS)
    title = "Gradient × input: what each earlier token did to each written token's logit"
    if len(rows) < len(written):
        title += f" (steps {rows.start + 1}–{rows.stop} of {len(written)})"
    token = written[row]
    plain = [i for i, is_special in enumerate(special) if not is_special] or list(range(len(names)))
    best = plain[int(np.argmax(matrix[row, plain]))]  # a start token's embedding says little about a word
    attention = shaping.focus_row(maps, [maps.steps[row].query], maps.num_layers, "mean", **view.switches)
    keys = shaping.groups(maps.key, **view.switches)
    looked = shaping.labels(maps.key, keys, merge_words=view.merge_words)[int(np.argmax(attention))]
    choices, _ = common.focus_choices(maps, view)
    return Drawing(
        focus_choices=choices,
        focus=str(maps.steps[row].query),
        step=step,
        main=signed_heatmap(
            matrix[rows.start : rows.stop],
            written[rows.start : rows.stop],
            names,
            title=title,
            value="gradient × input",
            style=style,
            row_start=rows.start,
            highlight_row=row,
        ),
        matrix=matrix,
        row_labels=written,
        col_labels=names,
        focus_figure=token_score_bars(
            matrix[row], names, title=f"Step {step}: what moved '{token}'", value="gradient × input", style=style
        ),
        sentence=(
            f"Step {step} writes '{token}': '{names[best]}' pushed it most ({matrix[row, best]:+.3g}); the step's "
            f"attention (layer {maps.num_layers}, averaged over heads) goes most to '{looked}'."
        ),
        top_figure=None,
    )
