"""Generation gives the CPU back: when the visitor stops reading, and when the time limit passes."""

from __future__ import annotations

import threading
import time

import pytest

from services import generation
from tests.conftest import SLOW_STEP_SECONDS


@pytest.fixture
def slow_model(slow_generation, tiny_models):
    """The source of the tiny causal LM, slowed by conftest's slow_generation."""
    return str(tiny_models["generation"])


def test_closing_the_stream_stops_the_worker_at_the_next_token(slow_model):
    options = generation.GenerationOptions(max_new_tokens=256)
    threads = threading.active_count()
    updates = generation.stream("So today, I just feel like", options, model=slow_model)
    next(updates), next(updates)
    started = time.monotonic()
    updates.close()  # what Gradio does when Stop is pressed or the visitor leaves
    assert time.monotonic() - started < 20 * SLOW_STEP_SECONDS  # not the ~12 s the other 250 tokens take
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
