"""The model runs the explorers redraw from, held on the server within one memory budget.

A visitor's session keeps only a key (in gr.State); the attention arrays stay here. Held in each
session's state, they would grow with the number of visitors (a 512-token run of SmolLM2 holds 0.5 GB)
until the Space ran out of memory. Here the least recently used runs give way past the budget, and
runs older than their time to live are dropped; a visitor whose run is gone is asked to run it again.
Each session has a share of the budget: past it, that session's own older runs give way first, so one
visitor running big models in a loop cannot push out everyone else's runs. A run several sessions hold
(a result shared by services.shared_results) is counted once in the budget: its arrays exist once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from components.fair_use import session_id
from services import run_guard
from services.errors import InputError

if TYPE_CHECKING:
    from services.attention_maps import AttentionMaps

GONE = (
    "This result is no longer kept on the server: results are dropped after {minutes} minutes, or sooner when "
    "many visitors use the Space. Run the model again to explore its attention."
)


class _Stored(NamedTuple):
    runs: list[AttentionMaps]
    size: int
    stored: float
    owner: str | None


class RunStore:
    """Runs by key, least recently used first, within `budget_bytes` of attention arrays, of which one
    session may hold `session_bytes` (its latest run is kept even when larger)."""

    def __init__(
        self, budget_bytes: int | None = None, time_to_live: float = 30 * 60, session_bytes: int | None = None
    ) -> None:
        self.budget_bytes = budget_bytes
        self.session_bytes = session_bytes
        self.time_to_live = time_to_live
        self._runs: OrderedDict[str, _Stored] = OrderedDict()
        self._holders: dict[int, list[int]] = {}  # id of a run -> [keys holding it, its bytes]
        self._held = 0  # bytes of the runs in `_holders`
        self._guard = threading.Lock()

    def put(self, runs: Sequence[AttentionMaps], owner: str | None = None) -> str:
        """Keep `runs` (even alone past the budget: its visitor is looking at it); returns its key.
        `owner` is the session the runs belong to (by default the session of the event being handled)."""
        key = uuid.uuid4().hex
        size = sum(run.weights.nbytes for run in runs)
        with self._guard:
            self._runs[key] = _Stored(list(runs), size, time.monotonic(), owner or session_id())
            self._hold(self._runs[key])
            self._expire(keep=key)
            self._fit(keep=key)
        if (guard := run_guard.current()) is not None:
            guard.stored.append(key)  # dropped again if the run is cancelled
        return key

    def get(self, key: str | None) -> list[AttentionMaps]:
        if not key:
            raise InputError("Run the model first; then explore its attention.")
        with self._guard:
            self._expire()
            if key not in self._runs:
                raise InputError(GONE.format(minutes=round(self.time_to_live / 60)))
            self._runs.move_to_end(key)
            return self._runs[key].runs

    def discard(self, key: str | None) -> None:
        """Drop a run (Gradio calls this when the session's state holding `key` expires)."""
        with self._guard:
            self._drop(key)

    @property
    def held_bytes(self) -> int:
        """Bytes of the runs held, each run once however many sessions hold it."""
        with self._guard:
            return self._held

    def _hold(self, stored: _Stored) -> None:
        for run in {id(run): run for run in stored.runs}.values():
            if id(run) not in self._holders:
                self._holders[id(run)] = [0, run.weights.nbytes]
                self._held += run.weights.nbytes
            self._holders[id(run)][0] += 1

    def _drop(self, key: str) -> None:
        stored = self._runs.pop(key, None)
        if stored is None:
            return
        for run_id in {id(run) for run in stored.runs}:
            holders = self._holders[run_id]
            holders[0] -= 1
            if holders[0] == 0:
                self._held -= self._holders.pop(run_id)[1]

    def held_by(self, owner: str) -> int:
        """Bytes of runs `owner` holds."""
        with self._guard:
            return sum(stored.size for stored in self._runs.values() if stored.owner == owner)

    def _expire(self, keep: str | None = None) -> None:
        too_old = time.monotonic() - self.time_to_live
        for key in [k for k, stored in self._runs.items() if stored.stored < too_old and k != keep]:
            self._drop(key)

    def _fit(self, keep: str) -> None:
        owner = self._runs[keep].owner
        if self.session_bytes is not None and owner is not None:
            self._drop_oldest(self.session_bytes, keep, lambda stored: stored.owner == owner)
        if self.budget_bytes is not None:
            for key in list(self._runs):
                if self._held <= self.budget_bytes:
                    break
                if key != keep:
                    self._drop(key)

    def _drop_oldest(self, budget: int, keep: str, counts) -> None:
        """Drop the least recently used runs that `counts` until those left hold at most `budget`."""
        mine = [key for key, stored in self._runs.items() if counts(stored)]
        held = sum(self._runs[key].size for key in mine)
        for key in mine:
            if held <= budget:
                break
            if key != keep:
                held -= self._runs[key].size
                self._drop(key)


# The app's one store; app.py sets its budget from the settings.
RUNS = RunStore()


class _ForgetRun:
    """gr.State's delete_callback: drop the run whose key the expired state held.

    Not the bound `RUNS.discard`: Gradio deep-copies the page config, callback included, on every page
    load, and a bound method would copy the store. Not a plain function either: the page config shows the
    callback as text, and a function's text gives its address in the server's memory.
    """

    def __call__(self, key: str | None) -> None:
        RUNS.discard(key)

    def __repr__(self) -> str:
        return "forget_run"


forget_run = _ForgetRun()
