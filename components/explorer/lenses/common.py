"""What the computed lenses share: their stored result for a view, or a drawing that says why there is none.

A computed lens draws only what was computed for it (on the tab's run, or when the visitor chose it):
redraws never run a model. Where there is nothing to draw yet, the run's attention stays in view and
the sentence says what to do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from components.explorer import shaping
from components.explorer.drawing import Drawing
from components.explorer.lens_store import LENS_RESULTS, Declined
from components.explorer.lenses import attention
from components.explorer.view import View
from services.attention_maps import AttentionMaps


def stand_in(maps: AttentionMaps, view: View, message: str) -> Drawing:
    """The run's attention, as the attention lens draws it, with `message` for its sentence."""
    return replace(attention.LENS.draw(maps, replace(view, lens="attention")), sentence=message)


def result_for(lens: Any, maps: AttentionMaps, view: View) -> Any:
    """The lens's stored result for this view, or a stand-in `Drawing` saying why there is none."""
    if maps.recipe is None:
        return stand_in(
            maps,
            view,
            f"{lens.title} explains the model's answer, and this view has none of its own: where a tab has "
            "several views, pick the answer's (the first in the list).",
        )
    if lens.name not in maps.recipe.lenses:
        return stand_in(maps, view, lens.unavailable)
    found = LENS_RESULTS.get(maps, lens.name, lens.key(view))
    if found is None:
        return stand_in(maps, view, lens.pending(view))
    if isinstance(found, Declined):
        return stand_in(maps, view, found.message)
    return found


def focus_choices(maps: AttentionMaps, view: View) -> tuple[list[tuple[str, str]], str]:
    """The query tokens to pick the focus from, as the attention lens lists them, and the one in focus."""
    rows = shaping.groups(maps.query, **view.switches)
    names = shaping.labels(maps.query, rows, merge_words=view.merge_words)
    choices = [(f"{name} (#{group[0]})", str(group[0])) for name, group in zip(names, rows, strict=True)]
    focus = view.focus if view.focus is not None else rows[shaping.resolve_focus(maps, None, rows)][0]
    return choices, str(focus)


def step_in_view(maps: AttentionMaps, view: View) -> int:
    """The decoding step in view, from 1: the one whose query is the token in focus, else the slider's."""
    if view.focus is not None:
        for number, step in enumerate(maps.steps, start=1):
            if step.query == view.focus:
                return number
    return view.step or 1


def grouped(scores: np.ndarray, axis, view: View) -> tuple[np.ndarray, tuple[str, ...], tuple[bool, ...]]:
    """Scores [..., tokens] summed over each shown word or token (attribution adds up); their labels, and
    whether each is a special token."""
    groups = shaping.groups(axis, **view.switches)
    summed = np.stack([scores[..., list(group)].sum(axis=-1) for group in groups], axis=-1)
    names = shaping.labels(axis, groups, merge_words=view.merge_words)
    return summed.astype(np.float32), names, tuple(axis.special[group[0]] for group in groups)


def heads_text(heads) -> str:
    return ", ".join(f"{layer}.{head}" for layer, head in heads)
