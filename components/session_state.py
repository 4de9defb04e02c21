"""What Gradio keeps for each session, counted against one budget, and no value the app refused.

Gradio keeps, per session, the last value of every input and output of its events (deep links restore
a page from them), and drops sessions only past `state_session_capacity`, however large each is. Here
every event counts its session's kept bytes; past `sessions_budget_bytes` the least recently used
sessions are dropped (their runs too), never the one being served. And a value a handler refused is
put back to the control's initial value, so it never stays in the session or reaches a deep link.

This reaches into Gradio's state holder (`state_holder.session_data`, each session's `config_values`),
which Gradio does not document: the tests of this module fail first if a Gradio release moves them.
"""

from __future__ import annotations

import threading
from typing import Any

from gradio.context import LocalContext

MAX_DEPTH = 12  # values deeper than this count as nothing (no control returns such values)


def size_of(value: Any, depth: int = 0) -> int:
    """Roughly the bytes `value` holds: characters of text, bytes of arrays, the sum over containers."""
    if depth > MAX_DEPTH or value is None:
        return 0
    if isinstance(value, (bool, int, float)):
        return 8
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        return sum(size_of(k, depth + 1) + size_of(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return sum(size_of(item, depth + 1) for item in value)
    if hasattr(value, "nbytes"):
        return int(value.nbytes)
    if hasattr(value, "__dict__"):  # pydantic models too: their fields, without model_dump's deep copy
        return size_of(vars(value), depth + 1)
    return 64


def session_bytes(session: Any) -> int:
    """What one Gradio SessionState keeps: its components' values and props, and its gr.State values."""
    return size_of(list(session.config_values.values())) + size_of(list(session.state_data.values()))


class SessionLedger:
    """Kept bytes per session, measured as events come; the least recently used sessions go past `budget`."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget
        self.sizes: dict[str, int] = {}
        self._unmeasured: set[str] = set()  # served since last measured: their outputs are stored since
        self._lock = threading.Lock()

    def account(self, holder: Any, current: str | None) -> None:
        """Measure the sessions served since the last call (and `current`), then fit the budget."""
        with self._lock:
            todo = self._unmeasured | ({current} if current else set())
            self._unmeasured = {current} if current else set()
            for session in todo:
                state = holder.session_data.get(session)
                try:
                    if state is not None:
                        self.sizes[session] = session_bytes(state)
                except RuntimeError:  # Gradio added a value meanwhile (another event): measured next time
                    self._unmeasured.add(session)
            self._fit(holder, current)

    def held(self, holder: Any) -> int:
        return sum(self.sizes.get(session, 0) for session in list(holder.session_data))

    def _fit(self, holder: Any, current: str | None) -> None:
        for gone in set(self.sizes) - set(holder.session_data):
            del self.sizes[gone]
        if self.budget is None:
            return
        held = self.held(holder)
        for session in list(holder.session_data):  # least recently used first
            if held <= self.budget:
                break
            if session != current:
                held -= self.sizes.pop(session, 0)
                holder.delete_state(session)  # runs each gr.State's delete_callback: its runs go too
                with holder.lock:
                    holder.session_data.pop(session, None)
                    holder.time_last_used.pop(session, None)


LEDGER = SessionLedger()


def account() -> None:
    """Count the session of the event being handled (and those served before it) against the budget."""
    blocks, request = LocalContext.blocks.get(None), LocalContext.request.get(None)
    holder = getattr(blocks, "state_holder", None)
    if holder is not None:
        LEDGER.account(holder, getattr(request, "session_hash", None))


def drop_refused_inputs() -> None:
    """Put the inputs of the event being handled back to their initial values in its session: the
    handler refused one of them, and Gradio stored them all before the handler ran."""
    blocks, request = LocalContext.blocks.get(None), LocalContext.request.get(None)
    event = getattr(getattr(blocks, "_queue", None), "event_ids_to_events", {}).get(LocalContext.event_id.get(None))
    holder = getattr(blocks, "state_holder", None)
    session = holder.session_data.get(getattr(request, "session_hash", None)) if holder is not None else None
    if event is None or session is None:
        return
    initial = _initial_values(blocks)
    for block in event.fn.inputs:
        config = session.config_values.get(block._id)
        if config and "props" in config and block._id in initial:
            config["props"]["value"] = initial[block._id]


_initial: dict[int, dict[int, Any]] = {}


def _initial_values(blocks: Any) -> dict[int, Any]:
    """Each component's value as the page first shows it, by id (once per app)."""
    if id(blocks) not in _initial:
        _initial[id(blocks)] = {
            c["id"]: c.get("props", {}).get("value") for c in blocks.config.get("components", []) if "id" in c
        }
    return _initial[id(blocks)]


class _Keep:
    """A gr.State's delete_callback for a value with nothing to clean up. Not Gradio's default function,
    whose text in the page config would give its address in the server's memory."""

    def __call__(self, value: Any) -> None:
        return None

    def __repr__(self) -> str:
        return "keep"


KEEP = _Keep()
