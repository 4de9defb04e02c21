"""Faults through the launched app: a full queue, a generation cancelled mid-stream, and a model whose
loading raises. After each, the app keeps answering."""

from __future__ import annotations

import shutil
import time

import pytest
from gradio_client import Client
from gradio_client.utils import Status

from services.config import short_name
from tests.app_server import playground_env, serving
from tests.conftest import SLOW_STEP_SECONDS
from tests.http_api import wait_for

QUEUE_SIZE = 2
SENTIMENT = {"text": "I love food so much.", "api_name": "/sentiment"}


@pytest.fixture(scope="module")
def unloaded_zero_shot(tiny_models, broken_model):
    """A copy of the NLI model that no other test has loaded, so its load can be made to fail."""
    return shutil.copytree(tiny_models["zero_shot"], broken_model.parent / "unloaded_zero_shot")


@pytest.fixture(scope="module")
def small_queue(tiny_models, broken_model, unloaded_zero_shot):
    """The app with room for only QUEUE_SIZE waiting requests, and one worker."""
    env = playground_env(tiny_models, broken_model) | {
        "PLAYGROUND_QUEUE_SIZE": str(QUEUE_SIZE),
        "PLAYGROUND_WORKERS": "1",
        "PLAYGROUND_CONCURRENT_RUNS": "1",  # one run at a time: the held one, and the rest wait in the queue
        "PLAYGROUND_ZERO_SHOT_MODEL": str(unloaded_zero_shot),
    }
    with serving(env) as client:
        client.predict(**SENTIMENT)  # warm up: the sentiment model loads before any fault
        yield client


def test_a_full_queue_tells_the_next_visitor_to_try_again_and_then_serves_everyone(small_queue, held_generation):
    entered, release = held_generation
    running = small_queue.submit(prompt="So today", max_new_tokens=2, api_name="/generate")
    wait_for(entered.is_set, "the generation holds the only worker")
    waiting = []
    for _ in range(QUEUE_SIZE):  # visitors of their own: one session may hold only a few places
        waiting.append(Client(small_queue.src, verbose=False).submit(**SENTIMENT))
        wait_for(lambda: waiting[-1].status().code == Status.IN_QUEUE, "the request waits in the queue")

    turned_away = Client(small_queue.src, verbose=False).submit(**SENTIMENT)
    with pytest.raises(Exception, match="Queue is full! Please try again"):
        turned_away.result(timeout=30)

    release.set()
    assert running.result(timeout=60)[0]  # the text the held run went on to write
    for job in waiting:
        assert job.result(timeout=60)[3][0]["label"] in {"POSITIVE", "NEGATIVE"}
    assert small_queue.predict(**SENTIMENT)[3]  # and the visitor who was turned away can try again


def test_cancelling_a_generation_mid_stream_frees_the_worker(small_queue, slow_generation):
    steps = slow_generation
    job = small_queue.submit(prompt="So today, I just feel like", max_new_tokens=200, api_name="/generate")
    wait_for(lambda: len(job.outputs()) >= 2, "the first tokens are streamed")
    job.cancel()  # what the Stop button does
    cancelled_at = time.monotonic()
    wait_for(lambda: job.status().code == Status.CANCELLED or job.done(), "the job ends")
    time.sleep(20 * SLOW_STEP_SECONDS)
    assert len(steps) < 100, "the model ran on to max_new_tokens after the cancel"
    assert not [t for t in steps if t > cancelled_at + 10 * SLOW_STEP_SECONDS], "the model kept stepping after Stop"
    assert small_queue.predict(**SENTIMENT)[3]  # the worker is free for the next visitor


def test_a_model_whose_loading_raises_says_so_in_its_tab_and_loads_on_a_later_request(
    small_queue, unloaded_zero_shot, monkeypatch
):
    import transformers

    class OutOfMemory:
        @staticmethod
        def from_pretrained(*args, **kwargs):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    zero_shot = {"text": "History is fun", "labels": "education, politics", "api_name": "/zero_shot"}
    with monkeypatch.context() as patch:
        patch.setattr(transformers, "AutoModelForSequenceClassification", OutOfMemory)
        with pytest.raises(
            Exception, match=f"Could not load the model '{short_name(str(unloaded_zero_shot))}'.*not enough memory"
        ):
            small_queue.predict(**zero_shot)
        assert small_queue.predict(**SENTIMENT)[3]  # another tab, its model already loaded, still answers
    raw = small_queue.predict(**zero_shot)[3]  # the load is retried, and now succeeds
    assert sorted(raw["labels"]) == ["education", "politics"]
