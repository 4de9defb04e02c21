"""One visitor cannot starve the rest: the most expensive request is bounded and does not make others
wait, a cancelled run stops, a session holds only a few places in the queue, a full queue answers in
the app's own words, and nothing bypasses the queue. On loopback, bounded in count and time."""

from __future__ import annotations

import time

import httpx
import pytest
from gradio_client import Client

from components.edge import BUSY
from components.explorer.run_store import RUNS
from services.config import Limits
from services.run_guard import GRACE_SECONDS
from tests.app_server import TINY_TRANSLATION_TOKENS, playground_env, serving
from tests.hostile import in_background, post, slow_layers
from tests.http_api import wait_for

RUN_SECONDS = 3.0  # this app's limit per request, lower than the default so the tests stay short
LAYER_SECONDS = 0.01  # the slowed tiny models' time per layer: about a real model's on a busy CPU
MAXIMAL = {  # the most expensive generation the limits allow
    "prompt": "So today, I just feel like",
    "max_new_tokens": 256,
    "num_sequences": 4,
    "do_sample": True,
    "temperature": 5,
    "top_k": 0,
    "api_name": "/generate",
}
SENTIMENT = {"text": "I love food so much.", "api_name": "/sentiment"}


@pytest.fixture(scope="module")
def app(tiny_models, broken_model):
    limits = Limits(max_translation_tokens=TINY_TRANSLATION_TOKENS, max_run_seconds=RUN_SECONDS)
    with serving(playground_env(tiny_models, broken_model), limits) as client:
        client.predict(**SENTIMENT)  # the sentiment model loads before the tests
        yield client


def test_a_short_request_does_not_wait_behind_the_most_expensive_one(app, tiny_models):
    generation = str(tiny_models["generation"])
    app.predict(prompt="Hi", max_new_tokens=1, api_name="/generate")  # loaded
    with slow_layers("causal-lm", generation, LAYER_SECONDS) as layers:
        expensive, outcome = in_background(Client(app.src, verbose=False).predict, **MAXIMAL)
        wait_for(lambda: len(layers) > 20, "the expensive generation is writing")
        started = time.monotonic()
        assert Client(app.src, verbose=False).predict(**SENTIMENT)[3][0]["label"]
        waited = time.monotonic() - started
        assert expensive.is_alive(), f"the short request waited {waited:.1f} s, until the generation was over"
        expensive.join(timeout=60)
    assert "result" in outcome, outcome.get("error")
    # It held the CPU for its time limit at most: each layer call is LAYER_SECONDS of it.
    assert len(layers) * LAYER_SECONDS <= RUN_SECONDS + GRACE_SECONDS, len(layers)
    assert len(layers) < 2 * 4 * 256  # 2 layers a token: it did not write all 4 x 256 tokens


def test_a_cancelled_run_stops_at_its_next_layer_and_keeps_nothing(app, tiny_models):
    visitor = Client(app.src, verbose=False)
    visitor.predict(text="hi", target_language="French", api_name="/translate")  # loaded
    held = RUNS.held_by(visitor.session_hash)
    with slow_layers("seq2seq-lm", str(tiny_models["translation_fr"]), 0.05) as layers:
        job = visitor.submit(text="You like this house", target_language="French", api_name="/translate")
        wait_for(lambda: len(layers) > 3, "the translation runs")
        time.sleep(0.6)
        job.cancel()  # what the Stop button or a closed tab does
        cancelled = time.monotonic()
        time.sleep(1.0)
        after = [t for t in layers if t > cancelled + 0.2]
    assert after == [], f"the model ran {len(after)} more layers after the cancel"
    assert RUNS.held_by(visitor.session_hash) == held  # the cancelled run stored no result
    assert app.predict(**SENTIMENT)[3]  # and the worker serves the next visitor


def test_one_session_holds_only_a_few_places_in_the_queue(app, held_generation):
    entered, release = held_generation
    places = Limits().max_session_places
    try:
        for _ in range(places):
            assert post(app, "/generate", "greedy-visitor", prompt="So today", max_new_tokens=2).status_code == 200
        wait_for(entered.is_set, "the first generation holds its run")
        refused = post(app, "/sentiment", "greedy-visitor", text="one more")
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith(f"You already have {places} requests waiting or running")
        assert post(app, "/sentiment", "another-visitor", text="I love food").status_code == 200
    finally:
        release.set()


def test_a_full_queue_answers_in_the_apps_own_words(tiny_models, broken_model, held_generation):
    entered, release = held_generation
    env = playground_env(tiny_models, broken_model) | {"PLAYGROUND_QUEUE_SIZE": "1", "PLAYGROUND_CONCURRENT_RUNS": "1"}
    with serving(env) as client:
        try:
            assert post(client, "/generate", "first", prompt="So today", max_new_tokens=2).status_code == 200
            wait_for(entered.is_set, "the first visitor's generation holds the only run")
            assert post(client, "/sentiment", "second", text="I love food").status_code == 200  # it waits
            full = post(client, "/sentiment", "third", text="I love food")
            assert (full.status_code, full.json()) == (503, {"detail": BUSY})
        finally:
            release.set()


def test_the_queue_cannot_be_bypassed(app):
    for route in ("run", "api"):
        response = httpx.post(f"{app.src.rstrip('/')}/gradio_api/{route}/sentiment", json={"data": ["hi"]}, timeout=30)
        assert response.status_code == 404, (route, response.text[:200])
