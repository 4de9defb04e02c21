"""The logit lens: at each generation step, what each layer would have predicted, as a layers x steps grid of words."""

from __future__ import annotations

import numpy as np

from components.explorer.drawing import Drawing
from components.explorer.lens_figures import layer_bars, word_grid
from components.explorer.lenses import common
from components.explorer.view import View
from components.plots import style_for
from services.attention_maps import AttentionMaps
from services.config import Limits

NOTE = """**The logit lens** reads each layer's hidden state through the model's final norm and LM head, as if
the model stopped there. It shows when a prediction takes shape; middle layers were never trained to be
read this way, so an early layer's guess can be off even when the layer already holds what the later
ones use. The last layer's row is the model's own next-token distribution."""


class LogitLensLens:
    name = "logit_lens"
    label = "Logit lens: what each layer would predict"
    title = "The logit lens"
    note = NOTE
    unavailable = "The logit lens reads a decoder's layers as it writes: it is offered on the Text generation tab."

    def key(self, view: View) -> tuple:
        return ()

    def pending(self, view: View) -> str:
        return "The logit lens runs the model again when you choose it under 'Lens': on its way, or choose it again."

    def compute(self, maps: AttentionMaps, view: View, limits: Limits):
        from services.lenses import logit_lens  # torch loads with the first lens, not at startup

        return logit_lens.logit_lens(maps.recipe)

    def draw(self, maps: AttentionMaps, view: View) -> Drawing:
        result = common.result_for(self, maps, view)
        if isinstance(result, Drawing):
            return result
        style = style_for(view.presenter)
        step = common.step_in_view(maps, view)
        choices, _ = common.focus_choices(maps, view)
        texts = result.texts or result.tokens
        labels = tuple(f"{n}: {token}" for n, token in enumerate(texts, start=1))
        token = texts[step - 1]
        return Drawing(
            focus_choices=choices,
            focus=str(maps.steps[step - 1].query),
            step=step,
            main=word_grid(
                result.top_prob,
                result.top_texts or result.top,
                labels,
                title="Logit lens: each layer's most likely next token, at each step",
                style=style,
                highlight_col=step - 1,
            ),
            matrix=result.top_prob,
            row_labels=tuple(f"Layer {n}" for n in range(1, result.layers + 1)),
            col_labels=labels,
            focus_figure=layer_bars(
                result.chosen_prob[:, step - 1],
                title=f"Step {step}: the probability of '{token}' at each layer",
                value="probability",
                style=style,
            ),
            sentence=sentence(result, step),
            top_figure=None,
        )


LENS = LogitLensLens()


def sentence(result, step: int) -> str:
    """When the written token became every later layer's top guess, and what the first layer guessed."""
    column = [row[step - 1] for row in result.top]
    token = result.tokens[step - 1]
    read = (result.texts or result.tokens)[step - 1]
    first_guess = (result.top_texts or result.top)[0][step - 1]
    settled = len(column)
    while settled > 0 and column[settled - 1] == token:
        settled -= 1
    last = float(result.chosen_prob[-1, step - 1])
    if settled == len(column):
        return (
            f"Step {step} writes '{read}', though no layer ranks it first (sampling chose it; last layer: {last:.2g})."
        )
    first = float(np.asarray(result.chosen_prob)[settled, step - 1])
    return (
        f"Step {step} writes '{read}': from layer {settled + 1} on, every layer's top guess is '{read}' "
        f"({first:.2g} there, {last:.2g} at the last layer); layer 1 guessed '{first_guess}'."
    )
