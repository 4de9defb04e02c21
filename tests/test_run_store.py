"""Visitors' runs are held on the server within a memory budget and a time to live; a visitor whose
run was dropped is asked to run the model again, and everyone else goes on exploring."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from gradio_client import Client

from components.explorer import run_store
from components.explorer.run_store import RunStore
from services.attention_maps import AttentionMaps
from services.config import Settings
from services.errors import InputError
from services.tokens import TokenAxis
from tests.app_server import playground_env, serving


def run(size: int) -> AttentionMaps:
    """A run whose attention weights take `size` × 4 bytes."""
    axis = TokenAxis(tokens=("a",), ids=(0,), words=("a",), word_of=(0,), special=(False,))
    return AttentionMaps("run", axis, axis, np.zeros((1, 1, 1, size), dtype=np.float32))


def test_the_least_recently_used_runs_give_way_past_the_budget():
    store = RunStore(budget_bytes=2 * 400)
    first, second = store.put([run(100)]), store.put([run(100)])
    store.get(first)  # the visitor of the first run is still exploring it
    third = store.put([run(100)])
    assert store.held_bytes == 800
    with pytest.raises(InputError, match=r"no longer kept on the server.*Run the model again"):
        store.get(second)
    assert store.get(first) and store.get(third)


def test_a_run_larger_than_the_budget_is_still_kept_for_its_visitor():
    store = RunStore(budget_bytes=100)
    old, new = store.put([run(10)]), store.put([run(1000)])
    assert store.get(new)[0].weights.size == 1000
    with pytest.raises(InputError, match="no longer kept"):
        store.get(old)


def test_runs_past_their_time_to_live_are_dropped(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(run_store.time, "monotonic", lambda: clock[0])
    store = RunStore(time_to_live=60)
    key = store.put([run(10)])
    clock[0] += 59
    assert store.get(key)
    clock[0] += 2
    with pytest.raises(InputError, match="dropped after 1 minutes"):
        store.get(key)
    assert store.held_bytes == 0


def test_a_session_that_ends_frees_its_run_and_no_run_asks_for_one():
    store = RunStore()
    key = store.put([run(10)])
    store.discard(key)  # what Gradio calls when the session's state expires
    assert store.held_bytes == 0
    with pytest.raises(InputError, match="Run the model first"):
        store.get(None)


def test_a_visitor_whose_run_was_dropped_is_asked_to_run_again(tiny_models, broken_model):
    # A budget of a few kilobytes: each visitor's run pushes out the one before.
    env = playground_env(tiny_models, broken_model) | {"PLAYGROUND_RESULTS_BUDGET_GB": "0.000001"}
    with serving(env) as first:
        second = Client(first.src, verbose=False)
        first.predict(text="The animal didn't cross the street", api_name="/attention")
        second.predict(text="I am a student", api_name="/attention")
        with pytest.raises(Exception, match=r"no longer kept on the server.*Run the model again"):
            first.predict(layer=1, api_name="/attention_view")
        assert second.predict(layer=1, api_name="/attention_view")  # the latest run is kept
        first.predict(text="The animal didn't cross the street", api_name="/attention")
        assert first.predict(layer=1, api_name="/attention_view")


def test_loading_the_page_does_not_copy_the_stored_runs(tiny_models, broken_model, monkeypatch):
    """Gradio deep-copies the page config on every page load; nothing in it may lead to the store."""
    import app

    config = app.build_demo(Settings.from_env(playground_env(tiny_models, broken_model))).config
    copied = []
    monkeypatch.setattr(RunStore, "__deepcopy__", lambda self, memo: copied.append(self) or self, raising=False)
    copy.deepcopy(config)
    assert copied == []
