"""Open one head without stepping through the head dropdown: the head where the token in focus attends
most to a key token the visitor picks ("it" -> "animal"), found over every layer and head."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.errors import user_errors
from components.explorer import shaping

if TYPE_CHECKING:
    from components.explorer.widget import AttentionExplorer

LABEL = "Find the head where the token in focus attends most to…"


def build() -> gr.Dropdown:
    """The key-token picker; its choices come from the run when it is opened (no output of the main events)."""
    return gr.Dropdown(label=LABEL, choices=[], value=None, interactive=True)


def wire(explorer: AttentionExplorer, picker: gr.Dropdown, common: dict[str, Any], redrawn: list[Any]) -> None:
    """`redrawn`: the explorer's outputs that a redraw changes."""

    def fill(key, presenter=False, **controls):
        if not key:
            return gr.skip()
        maps, _view = explorer._stored(key, controls, presenter)
        choices = [(f"{text} (#{position})", str(position)) for position, text in enumerate(maps.key.texts)]
        return gr.Dropdown(choices=choices)

    def find(key, target, presenter=False, **controls):
        maps, view = explorer._stored(key, controls, presenter)
        rows = shaping.groups(maps.query, **view.switches)
        focus = view.focus if view.focus is not None else rows[shaping.resolve_focus(maps, None, rows)][0]
        layer, head, _weight = shaping.find_head(maps, [focus], [int(target)], view.switches)
        found = replace(view, layer=layer, head=str(head), mode="heatmap", focus=focus)
        chosen = {explorer.layer: layer, explorer.head: str(head), explorer.view: "heatmap"}
        return chosen | explorer._by_component(explorer._view_values(maps, found))

    picker.focus(user_errors(fill), outputs=picker, api_visibility="private", **common)
    outputs = [explorer.layer, explorer.head, explorer.view, *redrawn]
    inputs = {**common, "inputs": [explorer.run_key, picker]}
    picker.input(user_errors(find), outputs=outputs, api_visibility="private", **inputs)
