"""The model runs the explorers redraw from, held on the server within one memory budget.

A visitor's session keeps only a key (in gr.State); the attention arrays stay here. Held in each
session's state, they would grow with the number of visitors (a 512-token run of SmolLM2 holds 0.5 GB)
until the Space ran out of memory. Here the least recently used runs give way past the budget, and
runs older than their time to live are dropped; a visitor whose run is gone is asked to run it again.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.errors import InputError

if TYPE_CHECKING:
    from services.attention_maps import AttentionMaps

GONE = (
    "This result is no longer kept on the server: results are dropped after {minutes} minutes, or sooner when "
    "many visitors use the Space. Run the model again to explore its attention."
)


class RunStore:
    """Runs by key, least recently used first, within `budget_bytes` of attention arrays."""

    def __init__(self, budget_bytes: int | None = None, time_to_live: float = 30 * 60) -> None:
        self.budget_bytes = budget_bytes
        self.time_to_live = time_to_live
        self._runs: OrderedDict[str, tuple[list[AttentionMaps], int, float]] = OrderedDict()
        self._guard = threading.Lock()

    def put(self, runs: Sequence[AttentionMaps]) -> str:
        """Keep `runs` (even alone past the budget: its visitor is looking at it); returns its key."""
        key = uuid.uuid4().hex
        size = sum(run.weights.nbytes for run in runs)
        with self._guard:
            self._runs[key] = (list(runs), size, time.monotonic())
            self._expire(keep=key)
            self._fit(keep=key)
        return key

    def get(self, key: str | None) -> list[AttentionMaps]:
        if not key:
            raise InputError("Run the model first; then explore its attention.")
        with self._guard:
            self._expire()
            if key not in self._runs:
                raise InputError(GONE.format(minutes=round(self.time_to_live / 60)))
            self._runs.move_to_end(key)
            return self._runs[key][0]

    def discard(self, key: str | None) -> None:
        """Drop a run (Gradio calls this when the session's state holding `key` expires)."""
        with self._guard:
            self._runs.pop(key, None)

    @property
    def held_bytes(self) -> int:
        with self._guard:
            return sum(size for _, size, _ in self._runs.values())

    def _expire(self, keep: str | None = None) -> None:
        too_old = time.monotonic() - self.time_to_live
        for key in [k for k, (_, _, stored) in self._runs.items() if stored < too_old and k != keep]:
            del self._runs[key]

    def _fit(self, keep: str) -> None:
        if self.budget_bytes is None:
            return
        held = sum(size for _, size, _ in self._runs.values())
        for key in list(self._runs):
            if held <= self.budget_bytes:
                break
            if key != keep:
                held -= self._runs.pop(key)[1]


# The app's one store; app.py sets its budget from the settings.
RUNS = RunStore()


def forget_run(key: str | None) -> None:
    """gr.State's delete_callback. A plain function, not the bound `RUNS.discard`: Gradio deep-copies
    the page config, callback included, on every page load, and a bound method would copy the store."""
    RUNS.discard(key)
