"""The knock-out lens: does this head matter for this answer? The answer without the heads, beside the original.

Its heatmap is the knocked-out run's own attention (the knocked-out heads are all zero), drawn by the
attention lens with the same controls; the chart beside it and the sentence compare the answers.
"""

from __future__ import annotations

from dataclasses import replace

from components.explorer.drawing import Drawing
from components.explorer.lens_figures import before_after_bars
from components.explorer.lenses import attention, common
from components.explorer.view import View
from components.plots import short, style_for
from services.attention_maps import AttentionMaps
from services.config import Limits

NOTE = """**Knock out heads** runs the model again with the heads you name set to zero (layer.head, from 1),
and shows the new answer beside the original. It tests whether the answer *needs* those heads on this
input; a head whose removal changes nothing may still be used when another head covers for it, and a
large change says the model relies on it here, not what it computes."""


class KnockOutLens:
    name = "knock_out"
    label = "Knock out heads: does the answer need them?"
    title = "Knocking out heads"
    note = NOTE
    unavailable = "Knocking out heads compares answers, and this run has none here."

    def key(self, view: View) -> tuple:
        return view.knock_out

    def pending(self, view: View) -> str:
        if not view.knock_out:
            return "Name heads in 'Heads to knock out' (layer.head, from 1, e.g. 1.3, 2.1) and press Enter."
        return f"Press Enter in 'Heads to knock out' to run the model without {common.heads_text(view.knock_out)}."

    def compute(self, maps: AttentionMaps, view: View, limits: Limits):
        from services.lenses import ablation  # torch loads with the first lens, not at startup

        recipe = maps.recipe
        return ablation.compare(recipe, recipe.knock_out.with_heads(recipe.stack, view.knock_out), run=maps)

    def draw(self, maps: AttentionMaps, view: View) -> Drawing:
        result = (
            common.result_for(self, maps, view) if view.knock_out else common.stand_in(maps, view, self.pending(view))
        )
        if isinstance(result, Drawing):
            return result
        knocked = result.attention
        drawing = attention.LENS.draw(knocked, fit(view, knocked))
        style = style_for(view.presenter)
        names = result.classes or ("the original answer",)
        before = result.before_each or (result.before,)
        after = result.after_each or (result.after,)
        figure = before_after_bars(
            names,
            before,
            after,
            title="The answer with every head, and with the heads knocked out",
            value="probability",
            style=style,
        )
        return replace(drawing, sentence=sentence(result), focus_figure=figure, top_figure=None)


LENS = KnockOutLens()


def fit(view: View, maps: AttentionMaps) -> View:
    """The view, on a knocked-out run that may have written other tokens: a focus or step it lacks starts over."""
    focus = view.focus if view.focus is not None and view.focus < len(maps.query) else None
    step = min(view.step, len(maps.steps)) if view.step is not None and maps.steps else (1 if maps.steps else None)
    return replace(view, lens="attention", focus=focus, step=step)


def sentence(result) -> str:
    heads = common.heads_text(result.knock_out.of(result.stack))
    change = f"{result.measure[0].upper()}{result.measure[1:]} goes from {result.before:.3f} to {result.after:.3f}"
    change += f" ({result.change:+.2g})."
    if result.classes:
        new = result.after_each[result.classes.index(result.knocked_out)]
        return (
            f"With heads {heads} knocked out, the answer is {result.knocked_out} ({new:.3f}); with every head, "
            f"{result.original}. {change}"
        )
    written, original = short(result.knocked_out, 60), short(result.original, 60)
    return f"With heads {heads} knocked out, it writes '{written}' (with every head: '{original}'). {change}"
