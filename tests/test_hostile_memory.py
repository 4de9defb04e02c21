"""Memory per visitor is bounded and counted: values larger than any control accepts never reach a
session, a refused value does not stay in one, sessions past their budget give way, one visitor cannot
push out everyone's results, and a burst's memory goes back. On loopback, bounded in count and time."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client

from components import session_state
from components.explorer.run_store import RUNS, RunStore
from services import run_guard
from services.config import Settings
from tests.app_server import playground_env, serving
from tests.hostile import post
from tests.test_run_store import run

LIMIT = Settings().limits.max_input_chars


def kept_strings(demo) -> list[int]:
    """The lengths of the strings every session of `demo` keeps, longest first."""
    lengths = []

    def walk(value):
        if isinstance(value, str):
            lengths.append(len(value))
        elif isinstance(value, dict):
            [walk(v) for v in value.values()]
        elif isinstance(value, (list, tuple)):
            [walk(v) for v in value]

    for state in list(demo.state_holder.session_data.values()):
        walk(list(state.config_values.values()))
    return sorted(lengths, reverse=True)


def test_a_value_larger_than_any_control_accepts_never_reaches_a_session(client):
    client.predict(text="I love food", api_name="/attention")
    for _ in range(15):  # fresh sessions, as the red team sent them: 10 MB, refused before it is read
        assert post(client, "/attention_view", uuid.uuid4().hex, focus="x" * 10_000_000).status_code == 413
    for _ in range(15):  # and 200 KB, within a request's size but longer than any control accepts
        refused = post(client, "/attention_view", uuid.uuid4().hex, focus="x" * 200_000)
        assert refused.status_code == 422
        [verdict] = [v for v in refused.json()["detail"] if not v["is_valid"]]
        assert verdict["message"] == (
            f"The value of focus is 200,000 characters long; no control of this app accepts more than {LIMIT:,}."
        )
    assert kept_strings(client.demo)[0] <= LIMIT  # Gradio kept each such value until 10,000 newer sessions came


def test_a_request_larger_than_the_app_accepts_is_refused_before_it_is_read(client):
    body = b'{"data": ["' + b"a" * 1_000_000 + b'"]}'
    response = httpx.post(f"{client.src.rstrip('/')}/gradio_api/call/sentiment", content=body, timeout=60)
    assert response.status_code == 413 and "this app accepts in one request" in response.json()["detail"]


def test_a_refused_value_does_not_stay_in_the_session_or_reach_a_deep_link(client):
    visitor = Client(client.src, verbose=False)
    with pytest.raises(Exception, match="at least one candidate label"):
        visitor.predict(text="SECRET-PREMISE", labels=" , ", api_name="/zero_shot")
    state = client.demo.state_holder.session_data[visitor.session_hash]
    assert "SECRET-PREMISE" not in str(state.config_values)
    link = httpx.get(f"{client.src.rstrip('/')}/gradio_api/deep_link", params={"session_hash": visitor.session_hash})
    saved = Path(client.demo.app.uploaded_file_dir) / "deep_links" / link.json() / "state.json"
    assert "SECRET-PREMISE" not in saved.read_text(encoding="utf-8")


def test_sessions_past_their_memory_budget_give_way_least_recently_used_first(client, monkeypatch):
    demo = client.demo
    assert demo.state_session_capacity == Settings().session_capacity <= 1000  # Gradio's own default: 10,000
    visitors = [Client(client.src, verbose=False) for _ in range(4)]
    for visitor in visitors:
        visitor.predict(text="I love food", api_name="/attention")
    sizes = {v.session_hash: session_state.session_bytes(demo.state_holder[v.session_hash]) for v in visitors}
    monkeypatch.setattr(session_state.LEDGER, "budget", int(2.5 * max(sizes.values())))
    visitors[-1].predict(layer=1, api_name="/attention_view")  # an event: the ledger counts and fits
    held = set(demo.state_holder.session_data)
    assert visitors[-1].session_hash in held and visitors[-2].session_hash in held
    assert visitors[0].session_hash not in held  # the least recently used went first
    assert RUNS.held_by(visitors[0].session_hash) == 0  # and its run with it
    assert session_state.LEDGER.held(demo.state_holder) <= session_state.LEDGER.budget


def test_the_ledger_drops_least_recently_used_sessions_never_the_current_one():
    def session(chars: int):
        return SimpleNamespace(config_values={1: {"props": {"value": "x" * chars}}}, state_data={})

    deleted = []
    holder = SimpleNamespace(
        session_data=OrderedDict((name, session(1000)) for name in "abcd"),
        time_last_used={},
        lock=__import__("threading").Lock(),
        delete_state=deleted.append,
    )
    ledger = session_state.SessionLedger(budget=2500)
    for name in "abcd":
        ledger.account(holder, name)
    assert list(holder.session_data) == ["c", "d"] and deleted == ["a", "b"]


def test_one_visitors_runs_cannot_push_out_everyone_elses():
    store = RunStore(budget_bytes=10_000, session_bytes=2_000)
    victim = store.put([run(100)], owner="victim")
    for _ in range(12):  # the red team's 12 big runs in a row
        store.put([run(400)], owner="attacker")
    assert store.get(victim)  # still there
    assert store.held_by("attacker") <= 2_000 and store.held_bytes <= 10_000


def test_a_visitor_keeps_their_run_while_another_fills_the_store(tiny_models, broken_model):
    env = playground_env(tiny_models, broken_model) | {"PLAYGROUND_RESULTS_BUDGET_GB": "0.0003"}  # 300 KB
    with serving(env) as victim:
        victim.predict(text="The animal didn't cross the street", api_name="/attention")
        attacker = Client(victim.src, verbose=False)
        for i in range(12):
            attacker.predict(text="\n".join(f"Text {i} {j} of a big run" for j in range(16)), api_name="/sentiment")
        assert victim.predict(layer=1, api_name="/attention_view")  # not "no longer kept"


def test_memory_goes_back_once_a_burst_is_over_and_never_on_a_response_path(monkeypatch):
    calls = []
    monkeypatch.setattr(run_guard.memory, "give_back", lambda: calls.append(threading.current_thread()))
    monkeypatch.setattr(run_guard.memory, "IDLE_SECONDS", 0.2)
    first, second = run_guard.RunGuard(None), run_guard.RunGuard(None)
    with run_guard.guarding(first), run_guard.guarding(second):
        pass
    assert calls == []  # not on the path of the run's response
    with run_guard.guarding(second):  # the burst goes on: the pending give-back waits for its end
        time.sleep(0.4)
    assert calls == []
    time.sleep(0.6)
    assert len(calls) == 1 and calls[0] is not threading.current_thread()
