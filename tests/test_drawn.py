"""Drawn figures kept for the next visitor of the same shared run and view."""

from __future__ import annotations

import gc

import gradio as gr
import numpy as np

from components.explorer import AttentionExplorer, lenses
from components.explorer.drawn import DrawnFigures
from components.explorer.view import View
from services.attention_maps import AttentionMaps
from services.tokens import TokenAxis
from tests.test_run_store import run


def test_a_view_of_a_run_is_drawn_once_and_another_view_or_run_draws_again():
    drawn, calls = DrawnFigures(budget_bytes=1000), []

    def draw(value):
        return lambda: calls.append(value) or value

    first, second = run(10), run(10)
    assert drawn.get(first, "layer 1", draw("a"), size=lambda _: 10) == "a"
    assert drawn.get(first, "layer 1", draw("again"), size=lambda _: 10) == "a"
    assert drawn.get(first, "layer 2", draw("b"), size=lambda _: 10) == "b"
    assert drawn.get(second, "layer 1", draw("c"), size=lambda _: 10) == "c"
    assert calls == ["a", "b", "c"] and drawn.held_bytes == 30


def test_drawings_stay_within_their_budget_and_go_with_their_run():
    drawn = DrawnFigures(budget_bytes=250)
    kept = run(10)
    drawn.get(kept, 0, lambda: "kept", size=lambda _: 100)
    gone = run(10)
    drawn.get(gone, 0, lambda: "gone", size=lambda _: 100)
    drawn.get(kept, 0, lambda: "redrawn", size=lambda _: 100)  # used again: the most recent
    drawn.get(kept, 1, lambda: "third", size=lambda _: 100)  # over 250: the least recently used goes
    assert drawn.held_bytes == 200
    assert drawn.get(kept, 0, lambda: "redrawn", size=lambda _: 100) == "kept"
    del gone
    gc.collect()
    drawn.get(kept, 2, lambda: "big", size=lambda _: 1000)  # larger than the budget: drawn, not kept
    assert drawn.held_bytes == 200


def test_the_explorer_draws_a_shared_runs_view_once_for_every_visitor(monkeypatch):
    axis = TokenAxis(
        tokens=("a", "b", "c"), ids=(0, 1, 2), words=("a", "b", "c"), word_of=(0, 1, 2), special=(False,) * 3
    )
    weights = np.random.default_rng(0).dirichlet(np.ones(3), size=(2, 2, 3)).astype(np.float32)
    maps = AttentionMaps("shared", axis, axis, weights)
    with gr.Blocks():
        explorer = AttentionExplorer("Attention", api_name="drawn_test", presenter=gr.Checkbox())
    calls = []
    real_draw = lenses.draw
    monkeypatch.setattr(lenses, "draw", lambda m, v: calls.append(v) or real_draw(m, v))
    one = explorer._view_values(maps, View(layer=2))
    other = explorer._view_values(maps, View(layer=2))  # another visitor, the same view
    assert len(calls) == 1 and one["plot"] is other["plot"]
    explorer._view_values(maps, View(layer=1))
    explorer._view_values(maps, View(layer=1, lens="knock_out"))  # other lenses draw each time
    assert len(calls) == 3
