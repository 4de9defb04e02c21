"""Results of deterministic runs shared between visitors: the store alone, then through the launched app."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from components import limits
from components.explorer.run_store import RunStore
from services import run_guard
from services.attention_maps import AttentionMaps
from services.config import Settings
from services.inputs import GenerationOptions, generation_options
from services.shared_results import SHARED, SharedResults, array_bytes, key_of
from services.tokens import TokenAxis


def maps() -> AttentionMaps:
    """A run of one token whose attention weights take 16 bytes."""
    axis = TokenAxis(tokens=("a",), ids=(0,), words=("a",), word_of=(0,), special=(False,))
    return AttentionMaps("run", axis, axis, np.full((1, 1, 1, 4), 0.25, dtype=np.float32))


class Counted:
    """A service function that counts its calls (each one stands for a forward pass)."""

    def __init__(self, wait: threading.Event | None = None, fail: int = 0) -> None:
        self.calls, self.wait, self.fail = 0, wait, fail
        self._lock = threading.Lock()

    def __call__(self, text: str, **options) -> AttentionMaps:
        with self._lock:
            self.calls += 1
            failing = self.calls <= self.fail
        if self.wait is not None:
            assert self.wait.wait(timeout=30)
        if failing:
            raise RuntimeError("the first run failed")
        return maps()


def test_a_key_names_task_inputs_and_options_but_not_callbacks():
    one = key_of("translation", "You like this house", models={"French": "a", "German": "b"}, num_beams=1)
    same = key_of("translation", "You like this house", num_beams=1, models={"German": "b", "French": "a"})
    assert one == same
    assert key_of("sentiment", ["a"], on_load=print) == key_of("sentiment", ["a"], on_load=len)
    assert one != key_of("translation", "You like this house", models={"French": "a", "German": "b"}, num_beams=2)
    assert one != key_of("sentiment", "You like this house", models={"French": "a", "German": "b"}, num_beams=1)
    with pytest.raises(TypeError):
        key_of("x", {1, 2})  # not hashable: a loud error, never a silent miss


def test_a_repeat_is_served_without_running_the_model():
    store, run = SharedResults(), Counted()
    first = store.call("attention", run, "hello", precision="fp32")
    again = store.call("attention", run, "hello", precision="fp32")
    assert run.calls == 1 and again is first
    store.call("attention", run, "hello", precision="int8")  # fast mode is another result
    store.call("attention", run, "hello!", precision="fp32")
    assert run.calls == 3 and (store.hits, store.misses) == (1, 3)


def test_a_shared_result_cannot_be_changed_in_place():
    store = SharedResults()
    shared = store.call("attention", Counted(), "hello")
    with pytest.raises(ValueError, match="read-only"):
        shared.weights[0, 0, 0, 0] = 1.0


def test_sharing_switched_off_runs_every_time():
    store, run = SharedResults(enabled=False), Counted()
    store.call("attention", run, "hello")
    store.call("attention", run, "hello")
    assert run.calls == 2 and len(store) == 0


def test_the_least_recently_used_results_give_way_past_the_budget():
    one = array_bytes(maps())
    store, run = SharedResults(budget_bytes=2 * one), Counted()
    for text in ("a", "b"):
        store.call("attention", run, text)
    store.call("attention", run, "a")  # "a" used again: "b" is now the oldest
    store.call("attention", run, "c")
    assert len(store) == 2 and store.held_bytes == 2 * one
    calls = run.calls
    store.call("attention", run, "a")
    assert run.calls == calls
    store.call("attention", run, "b")
    assert run.calls == calls + 1


def test_a_result_larger_than_the_whole_budget_is_not_kept():
    store, run = SharedResults(budget_bytes=array_bytes(maps()) - 1), Counted()
    store.call("attention", run, "a")
    store.call("attention", run, "a")
    assert run.calls == 2 and store.held_bytes == 0


def test_identical_requests_at_once_run_the_model_once():
    release = threading.Event()
    store, run = SharedResults(), Counted(wait=release)
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.call("t", run, "same"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # all eight are in: one runs, seven wait
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert run.calls == 1 and len(results) == 8 and all(result is results[0] for result in results)


def test_when_the_first_run_fails_a_waiting_request_runs_the_model_itself():
    release = threading.Event()
    store, run = SharedResults(), Counted(wait=release, fail=1)
    outcomes = []

    def ask():
        try:
            outcomes.append(store.call("t", run, "same"))
        except RuntimeError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert run.calls == 2
    assert sum(isinstance(outcome, RuntimeError) for outcome in outcomes) == 1


def test_a_cancelled_request_stops_waiting_for_another_visitors_run():
    release = threading.Event()
    store, run = SharedResults(), Counted(wait=release)
    leader = threading.Thread(target=store.call, args=("t", run, "same"))
    leader.start()
    time.sleep(0.2)
    guard = run_guard.RunGuard(None)
    stopped = []

    def follow():
        with run_guard.guarding(guard):
            try:
                store.call("t", run, "same")
            except run_guard.RunStopped as error:
                stopped.append(str(error))

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.2)
    guard.cancel()
    follower.join(timeout=5)
    assert stopped == [run_guard.CANCELLED]
    release.set()
    leader.join(timeout=30)


def test_a_run_cut_short_by_its_time_limit_is_not_shared():
    store, run = SharedResults(), Counted()

    def out_of_time(text):
        run_guard.current().ran_out = True
        return run(text)

    for _ in range(2):
        with run_guard.guarding(run_guard.RunGuard(None)):
            store.call("translation", out_of_time, "long")
    assert run.calls == 2 and len(store) == 0


def test_greedy_and_seeded_sampling_are_deterministic_and_an_empty_seed_is_not():
    assert GenerationOptions(do_sample=False, seed=None).deterministic
    assert GenerationOptions(do_sample=True, seed=7).deterministic
    assert not GenerationOptions(do_sample=True, seed=None).deterministic
    common = {"max_new_tokens": 4, "do_sample": True, "temperature": 1.0, "top_p": 1.0, "top_k": 50}
    common |= {"num_sequences": 1, "max_tokens_limit": 8, "max_sequences": 2}
    assert generation_options(seed=None, **common).seed is None
    assert generation_options(seed="", **common).seed is None
    assert generation_options(seed=0, **common).seed == 0


def test_the_shared_results_and_the_run_store_split_the_results_budget():
    settings = Settings(results_budget_bytes=4_000)
    try:
        limits.apply(settings)
        from components.explorer.run_store import RUNS

        assert SHARED.budget_bytes == 1_000 and RUNS.budget_bytes == 3_000 and SHARED.enabled
        limits.apply(Settings(results_budget_bytes=4_000, shared_results=False))
        assert not SHARED.enabled and RUNS.budget_bytes == 4_000
        assert Settings.from_env({"PLAYGROUND_SHARED_RESULTS": "0"}).shared_results is False
    finally:
        limits.apply(Settings())


def test_a_run_many_sessions_hold_counts_once_in_the_run_store():
    store = RunStore(budget_bytes=3 * array_bytes(maps()))
    shared = maps()
    for session in ("ann", "bob", "cat", "dan", "eve"):
        store.put([shared], owner=session)
    assert store.held_bytes == shared.weights.nbytes
    keys = [store.put([maps()], owner=session) for session in ("ann", "bob")]
    assert store.held_bytes == 3 * shared.weights.nbytes
    assert all(store.get(key) for key in keys)  # nothing pushed out: five sessions' one run counts once


def test_a_shared_stream_gives_a_repeat_its_final_state_alone():
    store, started = SharedResults(), []

    def stream(final: str):
        started.append(final)
        yield from ("partial 1", "partial 2", final)

    def updates(final: str = "done"):
        return list(store.stream("k", lambda: stream(final), keep=lambda update: update.startswith("done")))

    assert updates() == ["partial 1", "partial 2", "done"]
    assert updates() == ["done"] and len(started) == 1
    assert store.stream(None, lambda: stream("done"), keep=bool).__next__() == "partial 1"  # no key: not shared
    other = SharedResults()
    assert list(other.stream("k", lambda: stream("cut short"), keep=lambda u: u == "done")) == [
        "partial 1",
        "partial 2",
        "cut short",
    ]
    assert len(other) == 0


def test_a_stream_closed_midway_lets_the_next_request_run():
    store = SharedResults()
    first = store.stream("k", lambda: iter(["partial", "done"]), keep=lambda update: update == "done")
    assert next(first) == "partial"
    first.close()  # the visitor pressed Stop
    began = time.monotonic()
    again = store.stream("k", lambda: iter(["partial", "done"]), keep=lambda update: update == "done", wait_seconds=30)
    assert list(again) == ["partial", "done"]
    assert time.monotonic() - began < 10, "the next request waited for a run that had stopped"
