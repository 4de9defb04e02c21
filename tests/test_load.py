"""A burst of concurrent visitors over every endpoint, on loopback: everyone gets an answer or a clear
message, and memory stops growing once the models are loaded."""

from __future__ import annotations

import gc
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

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
