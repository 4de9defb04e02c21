"""Visitors whose requests wait in the queue together: each one's explorer redraws their own run, and
one visitor's bad settings or an unexpected error fail only their own request."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.utils import Status

from components.errors import UNEXPECTED
from components.explorer import lenses
from tests.app_server import playground_env, serving
from tests.helpers import REDRAW_OUTPUTS, explorer_outputs
from tests.http_api import wait_for


@pytest.fixture(scope="module")
def client(tiny_models, broken_model, first_load_model):
    """The app admitting one model run at a time, so that visitors' requests wait in the queue together."""
    with serving(playground_env(tiny_models, broken_model) | {"PLAYGROUND_CONCURRENT_RUNS": "1"}) as client:
        yield client


def queued_together(client, held_generation, visitors: dict[str, dict]) -> dict[str, tuple[Client, Any]]:
    """Each visitor (a session of their own) with their /sentiment job, all queued while the worker is held."""
    entered, release = held_generation
    running = client.submit(prompt="So today", max_new_tokens=2, api_name="/generate")
    wait_for(entered.is_set, "the generation holds the only worker")
    jobs = {}
    for name, kwargs in visitors.items():
        visitor = Client(client.src, verbose=False)
        jobs[name] = (visitor, visitor.submit(api_name="/sentiment", **kwargs))
        wait_for(lambda job=jobs[name][1]: job.status().code == Status.IN_QUEUE, f"{name} waits in the queue")
    release.set()
    running.result(timeout=60)
    return jobs


def test_visitors_queued_together_each_redraw_their_own_text(client, held_generation):
    texts = {"ann": "I love food so much.", "bob": "Rain again today", "cat": "What a great day"}
    jobs = queued_together(client, held_generation, {name: {"text": text} for name, text in texts.items()})
    tokens = {}
    for name, (visitor, job) in jobs.items():
        answered = explorer_outputs(job.result(timeout=60), 4)["focus"]["choices"]
        redrawn = explorer_outputs(visitor.predict(layer=1, api_name="/sentiment_attention"), names=REDRAW_OUTPUTS)
        assert redrawn["focus"]["choices"] == answered, f"{name} redraws another visitor's run"
        tokens[name] = str(answered)
    assert len(set(tokens.values())) == len(texts)  # three texts, three different runs


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"layer": 99}, "Layer 99 does not exist; this model has layers 1 to 2."),
        ({"view": "bogus"}, "View must be one of heatmap, heads, model, not 'bogus'."),
    ],
    ids=["layer", "view"],
)
def test_one_visitors_bad_explorer_settings_fail_only_their_own_request(client, held_generation, settings, message):
    text = {"text": "I love food so much."}
    visitors = {"first": text, "odd": text | settings, "last": text | {"head": "2"}}
    jobs = queued_together(client, held_generation, visitors)
    with pytest.raises(Exception, match=re.escape(message)):
        jobs["odd"][1].result(timeout=60)
    assert jobs["first"][1].result(timeout=60)[3][0]["label"] in {"POSITIVE", "NEGATIVE"}
    assert explorer_outputs(jobs["last"][1].result(timeout=60), 4)["head"]["value"] == "2"


def test_an_unexpected_error_in_one_visitors_outputs_is_logged_and_fails_only_that_request(
    client, held_generation, monkeypatch, caplog
):
    draw = lenses.draw

    def draw_failing_on_max(maps, view):
        if view.head == "max":
            raise RuntimeError("a bug that only this visitor's settings reach")
        return draw(maps, view)

    monkeypatch.setattr(lenses, "draw", draw_failing_on_max)
    text = {"text": "I love food so much."}
    with caplog.at_level(logging.ERROR):
        jobs = queued_together(client, held_generation, {"first": text, "unlucky": text | {"head": "max"}})
        with pytest.raises(Exception, match=re.escape(UNEXPECTED)):
            jobs["unlucky"][1].result(timeout=60)
    assert jobs["first"][1].result(timeout=60)[3][0]["label"] in {"POSITIVE", "NEGATIVE"}
    assert "a bug that only this visitor's settings reach" in caplog.text
