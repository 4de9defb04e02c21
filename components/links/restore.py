"""A link's explorer settings against the run they describe, and a view back into settings.

Settings go through the explorer's own `parse_view`, one at a time, so a bad one gets the message its
control gives (named as the link names it) and the rest still apply. Torch-free and event-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from components.explorer.lenses import LENSES
from components.explorer.view import View, parse_view
from services.attention_maps import AttentionMaps
from services.errors import InputError
from services.inputs import echo, heads_text

# The order settings are applied in: the input and the switches first, since the focus a word names
# depends on them, and the step before the focus.
ORDER = ("item", "view", "merge_words", "hide_special", "color_scale", "layer", "head", "step", "focus", "ablate")
ORDER += ("lens",)


def restore_view(
    settings: Mapping[str, Any],
    runs: Sequence[AttentionMaps],
    *,
    prefix: str = "",
    presenter: bool = False,
    item_label: str = "Input",
) -> tuple[View, tuple[str, ...]]:
    """The view these settings (plain names) describe of `runs`, and a message for each that does not apply."""
    accepted: dict[str, Any] = {}
    problems: list[str] = []
    options = {"presenter": presenter, "item_label": item_label}
    for name in ORDER:
        if name not in settings:
            continue
        tried = accepted | {name: settings[name]}
        try:
            view = parse_view(tried, runs, **options)
            _offered(view, runs[view.item])
        except InputError as problem:
            problems.append(f"In the link, {echo(prefix + name)}: {problem}")
            continue
        accepted = tried
    return parse_view(accepted, runs, **options), tuple(problems)


def _offered(view: View, maps: AttentionMaps) -> None:
    """A lens the run can show; the lens chooser offers no other."""
    lens = LENSES[view.lens]
    if lens.name != "attention" and (maps.recipe is None or lens.name not in maps.recipe.lenses):
        raise InputError(f"{lens.label.split(':')[0]} is not offered here. {lens.unavailable}")


def view_settings(view: View, maps: AttentionMaps, *, item_label: str = "Input") -> dict[str, str]:
    """The settings (plain names) a link needs to show `view` of `maps` again: only those not at their default.

    The focus is the token's text when that names it again (a readable link), else its position.
    """
    found: dict[str, Any] = {
        "item": view.item or None,
        "view": None if view.mode == "heatmap" else view.mode,
        "merge_words": view.merge_words or None,
        "hide_special": view.hide_special or None,
        "color_scale": None if view.color_scale == "auto" else view.color_scale,
        "layer": None if view.layer == maps.num_layers else view.layer,
        "head": None if view.head == "mean" else view.head,
        "step": view.step if view.step not in (None, 1) else None,
        "focus": None if view.focus is None else _focus_text(view, maps, item_label),
        "ablate": heads_text(view.knock_out) or None,
        "lens": None if view.lens == "attention" else view.lens,
    }
    return {name: _text(value) for name, value in found.items() if value is not None}


def _focus_text(view: View, maps: AttentionMaps, item_label: str) -> str:
    settings = {"merge_words": view.merge_words, "hide_special": view.hide_special, "item": view.item}
    runs = [maps] * (view.item + 1)  # parse_view picks the item's run; here every one is this run
    for name in (maps.query.texts[view.focus].strip(), maps.query.tokens[view.focus].strip()):
        if not name or name.isdigit():
            continue
        try:
            if parse_view(settings | {"focus": name}, runs, item_label=item_label).focus == view.focus:
                return name
        except InputError:
            continue
    return str(view.focus)


def _text(value: Any) -> str:
    return ("1" if value else "0") if isinstance(value, bool) else str(value)
