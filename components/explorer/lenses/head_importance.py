"""The head-importance lens: every head knocked out alone, as a layers x heads heatmap of the answer's change.

Beside it, the attention each head gives the token in focus, so a visitor can see whether the heads
that matter for the answer are the ones that look hardest at a token.
"""

from __future__ import annotations

import numpy as np

from components.explorer import shaping
from components.explorer.drawing import Drawing
from components.explorer.lens_figures import layer_head_heatmap
from components.explorer.lenses import common
from components.explorer.view import View
from components.plots import style_for
from services.attention_maps import AttentionMaps
from services.config import Limits

TOP = 3  # heads named in the sentence

NOTE = """**Head importance** knocks out each head alone and shows how much the answer's probability moves:
one pass per head, offered when that fits this Space's time budget. It finds the heads this answer leans
on one at a time; heads that back each other up all look unimportant alone, and it says nothing about
heads working together. Compare it with the attention each head gives the token in focus: a head can
look hard at a token and not matter, or matter while looking elsewhere."""


class HeadImportanceLens:
    name = "head_importance"
    label = "Head importance: each head knocked out alone"
    title = "Head importance"
    note = NOTE
    unavailable = "Head importance measures an answer, and this run has none here."

    def key(self, view: View) -> tuple:
        return ()

    def pending(self, view: View) -> str:
        return "Head importance runs the model again when you choose it under 'Lens': on its way, or choose it again."

    def compute(self, maps: AttentionMaps, view: View, limits: Limits):
        from services.lenses import importance  # torch loads with the first lens, not at startup

        return importance.head_importance(
            maps.recipe, max_seconds=limits.max_lens_seconds, max_bytes=limits.max_attention_bytes
        )

    def draw(self, maps: AttentionMaps, view: View) -> Drawing:
        result = common.result_for(self, maps, view)
        if isinstance(result, Drawing):
            return result
        style = style_for(view.presenter)
        choices, focus = common.focus_choices(maps, view)
        token, looking = attention_to(maps, int(focus), view)
        important = strongest(np.abs(result.change))
        attending = strongest(looking)
        layers, heads = result.change.shape
        return Drawing(
            focus_choices=choices,
            focus=focus,
            step=view.step,
            main=layer_head_heatmap(
                result.change,
                title=f"Change in {result.measure} when each head alone is knocked out",
                value="change",
                signed=True,
                style=style,
                marked=important,
            ),
            matrix=result.change,
            row_labels=tuple(f"Layer {n}" for n in range(1, layers + 1)),
            col_labels=tuple(f"Head {n}" for n in range(1, heads + 1)),
            focus_figure=layer_head_heatmap(
                looking,
                title=f"Attention each head gives '{token}' (mean over the query tokens)",
                value="attention",
                signed=False,
                style=style,
                marked=attending,
            ),
            sentence=sentence(result, important, attending, token),
            top_figure=None,
        )


LENS = HeadImportanceLens()


def attention_to(maps: AttentionMaps, position: int, view: View) -> tuple[str, np.ndarray]:
    """The focus token (or word) as a key: the attention each head gives it, [layers, heads], mean over queries."""
    keys = shaping.groups(maps.key, merge_words=view.merge_words, hide_special=False)
    group = next((g for g in keys if position in g), (min(position, len(maps.key) - 1),))
    label = shaping.labels(maps.key, [group], merge_words=view.merge_words)[0]
    return label, maps.weights[..., list(group)].sum(axis=-1).mean(axis=-1)


def strongest(values: np.ndarray, count: int = TOP) -> list[tuple[int, int]]:
    """The (layer, head) pairs, from 1, of the `count` largest values, largest first."""
    order = np.argsort(-values, axis=None, kind="stable")[:count]
    return [(int(i) // values.shape[1] + 1, int(i) % values.shape[1] + 1) for i in order]


def sentence(result, important, attending, token: str) -> str:
    named = [f"{layer}.{head} ({result.change[layer - 1, head - 1]:+.2g})" for layer, head in important]
    shared = [pair for pair in important if pair in attending]
    overlap = {0: "none of them is", 1: "one of them is"}.get(len(shared), f"{len(shared)} of them are")
    then = (
        f", then {', '.join(named[1:-1])} and {named[-1]}"
        if len(named) > 2
        else "".join(f", then {n}" for n in named[1:])
    )
    return (
        f"Knocked out alone, {named[0]} moves {result.measure} most{then}. The heads that attend most to "
        f"'{token}' are {common.heads_text(attending)}: {overlap} among the {len(important)} that matter most."
    )
