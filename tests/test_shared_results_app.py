"""Shared results through the launched app: a repeat from another visitor runs no forward pass, sampling
without a seed always runs, and visitors sharing one run each explore it with their own settings."""

from __future__ import annotations

import functools
import threading

import pytest
from gradio_client import Client

from services.models import MODELS
from services.shared_results import SHARED
from tests.app_server import playground_env, serving
from tests.figures import heatmap_matrices
from tests.helpers import REDRAW_OUTPUTS, chosen_matrix, explorer_outputs
from tests.http_api import wait_for

GREEDY = {"max_new_tokens": 4, "do_sample": False, "temperature": 1.0, "top_p": 1.0, "top_k": 50, "seed": 0}


@pytest.fixture(scope="module")
def client(tiny_models, broken_model, first_load_model):
    with serving(playground_env(tiny_models, broken_model) | {"PLAYGROUND_SHARED_RESULTS": "1"}) as client:
        yield client


@pytest.fixture
def forward_calls(monkeypatch):
    """`count(kind, source)`: a list that grows by one on each forward pass of that loaded model."""

    def count(kind: str, source) -> list[int]:
        model = MODELS.get(kind, str(source)).model
        calls: list[int] = []
        forward = model.forward

        @functools.wraps(forward)  # generate reads forward's signature
        def counted(*args, **kwargs):
            calls.append(1)
            return forward(*args, **kwargs)

        monkeypatch.setattr(model, "forward", counted)
        return calls

    return count


def visitor(client) -> Client:
    """Another visitor: a session of their own on the same app."""
    return Client(client.src, verbose=False)


CASES = {
    "/sentiment": ("sequence-classification", "sentiment", {"text": "Shared by the whole class"}),
    "/fill_mask": ("masked-lm", "fill_mask", {"text": "The class shares a [MASK].", "text_b": "We share a [MASK]."}),
    "/zero_shot": ("sequence-classification", "zero_shot", {"text": "A shared lesson", "labels": "school, sport"}),
    "/attention": ("encoder", "attention", {"text": "Everyone clicks this"}),
    "/translate": ("seq2seq-lm", "translation_fr", {"text": "You like this house", "target_language": "French"}),
    "/generate": ("causal-lm", "generation", {"prompt": "So today, together", **GREEDY}),
}


@pytest.mark.parametrize("api_name", list(CASES))
def test_another_visitors_repeat_runs_no_forward_pass(client, tiny_models, forward_calls, api_name):
    kind, model, kwargs = CASES[api_name]
    calls = forward_calls(kind, tiny_models[model])
    first = client.predict(**kwargs, api_name=api_name)
    assert calls, "the first request ran the model"
    ran = len(calls)
    again = visitor(client).predict(**kwargs, api_name=api_name)
    assert len(calls) == ran, "the repeat ran the model again"
    assert again[:2] == first[:2]  # the same answer (and its note)


def test_sampling_without_a_seed_always_runs_and_with_a_seed_is_shared(client, tiny_models, forward_calls):
    calls = forward_calls("causal-lm", tiny_models["generation"])
    sampled = GREEDY | {"do_sample": True, "prompt": "Draw again"}
    for seed, runs_model in ((None, [True, True]), (5, [True, False])):
        ran = []
        for _ in range(2):
            before = len(calls)
            visitor(client).predict(**sampled | {"seed": seed}, api_name="/generate")
            ran.append(len(calls) > before)
        assert ran == runs_model, f"seed={seed}"


def test_visitors_sharing_one_run_each_redraw_their_own_settings(client):
    kwargs = CASES["/translate"][2]
    ann, bob = visitor(client), visitor(client)
    ann_first = explorer_outputs(ann.predict(**kwargs, layer=1, head="1", api_name="/translate"), 3)
    hits = SHARED.hits
    bob_first = explorer_outputs(bob.predict(**kwargs, layer=2, head="2", api_name="/translate"), 3)
    assert SHARED.hits == hits + 1, "bob's run came from the shared results"
    assert (ann_first["layer"]["value"], ann_first["head"]["value"]) == (1, "1")
    assert (bob_first["layer"]["value"], bob_first["head"]["value"]) == (2, "2")
    shared = next(kept for kept, _ in SHARED._results.values() if getattr(kept, "source_text", "") == kwargs["text"])

    def redraw(person, layer, head):
        outputs = person.predict(layer=layer, head=head, api_name="/translate_cross_attention")
        [z] = heatmap_matrices(explorer_outputs(outputs, names=REDRAW_OUTPUTS)["plot"])
        return z

    for person, layer, head in ((ann, 2, "mean"), (bob, 1, "2"), (ann, 1, "max")):
        expected = chosen_matrix(shared.cross_attention, layer, head)
        assert redraw(person, layer, head).tolist() == expected.tolist(), "a redraw showed other settings"
    # Bob moves on to a sentence of his own: Ann's session still holds the shared run.
    bob.predict(text="I am a student", target_language="French", api_name="/translate")
    own = next(kept for kept, _ in SHARED._results.values() if getattr(kept, "source_text", "") == "I am a student")
    assert chosen_matrix(own.cross_attention, 1, "1").tolist() != chosen_matrix(shared.cross_attention, 1, "1").tolist()
    assert redraw(ann, 1, "1").tolist() == chosen_matrix(shared.cross_attention, 1, "1").tolist()
    assert redraw(bob, 1, "1").tolist() == chosen_matrix(own.cross_attention, 1, "1").tolist()


def test_identical_requests_in_the_queue_together_run_the_model_once(client, tiny_models, monkeypatch):
    loaded = MODELS.get("sequence-classification", str(tiny_models["sentiment"]))
    forward = loaded.model.forward
    entered, release, calls = threading.Event(), threading.Event(), []

    def held_forward(*args, **kwargs):
        calls.append(1)
        entered.set()
        assert release.wait(timeout=60), "the test never released the model"
        return forward(*args, **kwargs)

    monkeypatch.setattr(loaded.model, "forward", held_forward)
    text = {"text": "Now everyone click this example"}
    jobs = [visitor(client).submit(**text, api_name="/sentiment") for _ in range(3)]
    wait_for(entered.is_set, "the first request runs the model")
    wait_for(lambda: SHARED.waiting == 2, "the other two wait for the first one's run")
    release.set()
    labels = [job.result(timeout=60)[3][0]["label"] for job in jobs]
    assert len(calls) == 1 and len(set(labels)) == 1
