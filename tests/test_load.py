"""A burst of concurrent visitors over every endpoint, on loopback: everyone gets an answer or a clear
message, memory stops growing once the models are loaded, and one attacker looping the most expensive
request does not slow the others down."""

from __future__ import annotations

import gc
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from gradio_client import Client

from tests.app_server import playground_env, serving
from tests.hostile import slow_layers

# Bursts of visitors against the launched app.
pytestmark = pytest.mark.slow

CLIENTS = 8
ROUNDS = 3

# What one visitor does, tab after tab; the bad inputs must come back as their own clear messages.
VISIT = [
    ({"text": "I love food so much.\nRain again.", "api_name": "/sentiment"}, None),
    ({"text": "History is fun", "labels": "education, politics", "api_name": "/zero_shot"}, None),
    ({"prompt": "So today, I just feel like", "max_new_tokens": 6, "api_name": "/generate"}, None),
    ({"text": "You like this house", "target_language": "French", "api_name": "/translate"}, None),
    ({"text": "The animal didn't cross the street", "api_name": "/attention"}, None),
    ({"layer": 1, "head": "2", "merge_words": True, "api_name": "/attention_view"}, None),
    ({"text": "   ", "api_name": "/attention"}, "text is empty"),
    ({"text": "x", "labels": " , ", "api_name": "/zero_shot"}, "at least one candidate label"),
    ({"layer": 99, "api_name": "/attention_view"}, "Layer 99 does not exist"),
]


def visit(url: str) -> list[str]:
    """One visitor's session; returns what went wrong unexpectedly."""
    client = Client(url, verbose=False)
    problems = []
    for kwargs, expected_error in VISIT:
        try:
            client.predict(**kwargs)
        except Exception as error:
            if expected_error is None or expected_error not in str(error):
                problems.append(f"{kwargs['api_name']}: {error}")
        else:
            if expected_error is not None:
                problems.append(f"{kwargs['api_name']}: no error for a bad input")
    return problems


def rss_mb() -> float:
    """This process's resident memory now (the server runs in it), after a garbage collection so that
    objects merely awaiting collection do not count as growth."""
    gc.collect()
    with open(f"/proc/{os.getpid()}/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_a_burst_of_visitors_gets_answers_and_memory_levels_off(client):
    url = client.src
    assert url.startswith(("http://127.0.0.1", "http://localhost"))  # loopback only
    assert visit(url) == []  # warm up: load every model once
    memory = [rss_mb()]
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for _ in range(ROUNDS):
            problems = [p for result in pool.map(visit, [url] * CLIENTS) for p in result]
            assert problems == []
            memory.append(rss_mb())
    assert time.monotonic() - started < 240
    # Bursts add sessions, threads and allocator arenas at first; then memory must level off.
    print(f"RSS after warm-up and each burst: {[round(m) for m in memory]} MB")  # noqa: T201
    assert memory[-1] - memory[0] < 300
    assert memory[-1] - memory[-2] < max(20.0, memory[1] - memory[0])


# The most expensive request the limits allow, and what the other visitors do meanwhile.
ATTACK = {"prompt": "So today", "max_new_tokens": 256, "num_sequences": 4, "do_sample": True, "temperature": 5}
SHORT = [kwargs for kwargs, expected_error in VISIT if expected_error is None]
PHASE_SECONDS = 20
OTHERS = 4


def latencies(url: str, until: float) -> list[float]:
    """One visitor going through SHORT over and over until `until`; the seconds each request took."""
    client, seconds = Client(url, verbose=False), []
    while time.monotonic() < until:
        for kwargs in SHORT:
            started = time.monotonic()
            client.predict(**kwargs)
            seconds.append(time.monotonic() - started)
    return seconds


def p95_of_others(url: str) -> float:
    until = time.monotonic() + PHASE_SECONDS
    with ThreadPoolExecutor(OTHERS) as pool:
        seconds = [s for result in pool.map(latencies, [url] * OTHERS, [until] * OTHERS) for s in result]
    return float(np.percentile(seconds, 95))


def test_one_attacker_looping_the_most_expensive_request_leaves_the_others_p95_within_2x(tiny_models, broken_model):
    generation = str(tiny_models["generation"])
    with serving(playground_env(tiny_models, broken_model)) as client:
        url = client.src
        assert url.startswith(("http://127.0.0.1", "http://localhost"))  # loopback only
        assert visit(url) == []  # every model loaded
        # Each layer of the generation model takes 10 ms, as a real one does on a busy CPU: the attack
        # runs to the time limit of one request, every time.
        with slow_layers("causal-lm", generation, 0.01):
            quiet = p95_of_others(url)
            stop, attacks = threading.Event(), []

            def attack():
                attacker = Client(url, verbose=False, download_files=False)
                while not stop.is_set():
                    started = time.monotonic()
                    attacker.predict(**ATTACK, api_name="/generate")
                    attacks.append(time.monotonic() - started)

            attacker = threading.Thread(target=attack, daemon=True)
            attacker.start()
            attacked = p95_of_others(url)
            stop.set()
            attacker.join(timeout=60)
    print(f"others' p95: {quiet:.2f} s alone, {attacked:.2f} s with the attacker; attacks took {attacks} s")  # noqa: T201
    assert attacks, "the attacker never finished a request"
    assert attacked <= 2 * quiet
