"""Generation gives the CPU back: when the visitor stops reading, and when the time limit passes."""

from __future__ import annotations

import threading
import time

import pytest

from services import generation
from services.models import MODELS

STEP_SECONDS = 0.05


@pytest.fixture
def slow_model(tiny_models, monkeypatch):
    """The tiny causal LM, slowed to about 20 tokens a second, like a real one on a busy CPU."""
    source = str(tiny_models["generation"])
    loaded = MODELS.get("causal-lm", source)
    forward = loaded.model.forward

    def slow_forward(*args, **kwargs):
        time.sleep(STEP_SECONDS)
        return forward(*args, **kwargs)

    monkeypatch.setattr(loaded.model, "forward", slow_forward)
    return source


def test_closing_the_stream_stops_the_worker_at_the_next_token(slow_model):
    options = generation.GenerationOptions(max_new_tokens=256)
    threads = threading.active_count()
    updates = generation.stream("So today, I just feel like", options, model=slow_model)
    next(updates), next(updates)
    started = time.monotonic()
    updates.close()  # what Gradio does when Stop is pressed or the visitor leaves
    assert time.monotonic() - started < 20 * STEP_SECONDS  # not the ~12 s the other 250 tokens take
    assert threading.active_count() <= threads  # the generate worker has ended


def test_a_run_past_its_time_limit_ends_early_and_says_so(slow_model):
    options = generation.GenerationOptions(max_new_tokens=256)
    started = time.monotonic()
    last = list(generation.stream("So today", options, model=slow_model, max_seconds=0.5))[-1]
    assert last.done and last.out_of_time
    assert 0 < last.sequences[0].new_tokens < 256
    assert time.monotonic() - started < 5


def test_a_run_within_its_time_limit_is_not_flagged(tiny_models):
    options = generation.GenerationOptions(max_new_tokens=4)
    last = generation.generate("So today", options, model=str(tiny_models["generation"]))
    assert last.done and not last.out_of_time and last.sequences[0].new_tokens == 4
