"""Model runs take turns on the CPU, layer by layer: the run that has had the least of it goes first.

Gradio's queue is first come, first served, so one generation of 256 tokens x 4 sequences made every
visitor behind it wait a minute. Instead a few runs are admitted at once (Settings.concurrent_runs)
and share the `workers` CPU slots: before each layer a run asks for a turn, and of the runs waiting,
the one that has had the least CPU time so far gets it (least attained service scheduling). A short
request arriving behind a long one starts at the long one's next layer and runs to its end; the long
one goes on when the CPU is free again. Only `workers` runs compute at a time, each with its share of
torch's threads, so the CPU is never oversubscribed. Torch-free.
"""

from __future__ import annotations

import threading
from typing import Protocol

# A run keeps its turn until a waiting run has had this much less CPU: long runs do not swap every layer.
QUANTUM_SECONDS = 0.1
POLL_SECONDS = 0.1  # how often a waiting run looks whether it was cancelled


class Guarded(Protocol):
    """What the turns need of a run: its CPU time so far, a clock, and whether it may go on."""

    def attained(self) -> float: ...

    def clock_on(self) -> None: ...

    def clock_off(self) -> None: ...

    def check(self) -> None: ...


class Turns:
    """`workers` turns on the CPU, handed out by least attained service."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._changed = threading.Condition()
        self._holding: list[Guarded] = []
        self._waiting: list[Guarded] = []

    def take(self, run: Guarded) -> None:
        """Before a layer: keep the turn, or give it to a run that has had less and wait for the next one.

        Raises what `run.check()` raises (a cancel, the time limit) while it waits.
        """
        with self._changed:
            if run in self._holding:
                if not self._should_yield(run):
                    return
                self._release(run)
            self._waiting.append(run)
            try:
                while not self._may_start(run):
                    self._changed.wait(POLL_SECONDS)
                    run.check()
            finally:
                self._waiting.remove(run)
            self._holding.append(run)
            run.clock_on()

    def give_back(self, run: Guarded) -> None:
        """After a forward pass, or when a run ends or fails: the next run may go."""
        with self._changed:
            if run in self._holding:
                self._release(run)

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)

    def _should_yield(self, run: Guarded) -> bool:
        least = min((other.attained() for other in self._waiting), default=None)
        return least is not None and least < run.attained() - QUANTUM_SECONDS

    def _may_start(self, run: Guarded) -> bool:
        free = self.workers - len(self._holding)
        if free <= 0:
            return False
        first = sorted(self._waiting, key=lambda other: other.attained())[:free]  # stable: ties keep arrival order
        return any(other is run for other in first)

    def _release(self, run: Guarded) -> None:
        self._holding.remove(run)
        run.clock_off()
        self._changed.notify_all()


# The process's turns; components.limits sets `workers` from the settings.
TURNS = Turns()
