"""How long one request may hold a model worker, how a cancelled run stops, and how runs share the CPU.

A `RunGuard` is one request's budget: seconds of CPU (the time it holds a turn, services.turns), and a
flag set when the visitor cancels. Every loaded model, before each of its layers (a forward pre-hook on
each layer stack), checks the guard of the run in progress and takes its turn on the CPU; after its
forward pass it gives the turn back. So a run that is cancelled, or that outstays its limit, stops
within one layer, whatever its task and settings, and a short run never waits long behind a long one.
Decoding loops (generation, translation) stop writing when their time is up and keep what they wrote;
the layer check is the backstop. Torch-free until a model is watched.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services import memory
from services.errors import PlaygroundError
from services.turns import TURNS

# A decoding loop stops at its limit and then needs a last pass for the attention; the layer check
# allows this much more before it stops a run outright.
GRACE_SECONDS = 3.0
# A run may wait for turns (others had less CPU) up to this many times its limit, all told.
WALL_FACTOR = 6

CANCELLED = "The run was cancelled."
OVER_TIME = (
    "This request needed more than the {seconds:.0f} s one request may use the model on this Space, so it "
    "was stopped. Please send less at a time: fewer or shorter texts, fewer labels or new tokens."
)
TOO_BUSY = "The Space is too busy to finish this request now ({waited:.0f} s waiting for the CPU); please try again."


class RunStopped(PlaygroundError):
    """A run was cancelled, or outstayed its time; the message says which, and what to do."""


@dataclass(eq=False)
class RunGuard:
    """One request's hold on a model worker: `seconds` of CPU (None: no limit), until cancelled."""

    seconds: float | None
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Set by a decoding loop that stopped early because its time was up, so the page can say so.
    ran_out: bool = False
    # Keys of the results the run stored: a cancelled run's results are dropped.
    stored: list[str] = field(default_factory=list)
    _cpu: float = 0.0  # seconds it held a turn, not counting the one it holds now
    _since: float | None = None  # when it took the turn it holds

    def attained(self) -> float:
        """Seconds of CPU the run has had (the time it held turns)."""
        since = self._since
        return self._cpu + (0.0 if since is None else time.monotonic() - since)

    def clock_on(self) -> None:
        self._since = time.monotonic()

    def clock_off(self) -> None:
        since, self._since = self._since, None
        if since is not None:
            self._cpu += time.monotonic() - since

    def seconds_left(self) -> float | None:
        return None if self.seconds is None else self.seconds - self.attained()

    def out_of_time(self) -> bool:
        left = self.seconds_left()
        return left is not None and left <= 0

    def cancel(self) -> None:
        self.cancelled.set()

    def check(self) -> None:
        """Raise RunStopped when the run was cancelled, is past its time and the grace after it, or has
        waited too long for the CPU."""
        if self.cancelled.is_set():
            raise RunStopped(CANCELLED)
        if self.seconds is None:
            return
        if self.attained() > self.seconds + GRACE_SECONDS:
            raise RunStopped(OVER_TIME.format(seconds=self.seconds))
        waited = time.monotonic() - self.started
        if waited > self.seconds * WALL_FACTOR:
            raise RunStopped(TOO_BUSY.format(waited=waited))


_CURRENT: contextvars.ContextVar[RunGuard | None] = contextvars.ContextVar("run_guard", default=None)


def current() -> RunGuard | None:
    """The guard of the run this thread is doing, if any."""
    return _CURRENT.get()


_running = [0]  # runs inside `guarding` now
_running_lock = threading.Lock()


@contextlib.contextmanager
def guarding(guard: RunGuard) -> Iterator[RunGuard]:
    """Run the block under `guard`: the models it calls check it and take turns before each layer; when
    the block ends (or fails), its turn goes to the next run, and once the last run of a burst is over,
    the memory it freed goes back to the system (services.memory)."""
    token = _CURRENT.set(guard)
    with _running_lock:
        _running[0] += 1
    try:
        yield guard
    finally:
        TURNS.give_back(guard)
        _CURRENT.reset(token)
        with _running_lock:
            _running[0] -= 1
            last = _running[0] == 0
        if last:  # off the response's path, once the burst is over
            memory.give_back_when_idle(lambda: _running[0] == 0)


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """A model loading for the current run: a first use, not a wait for the CPU, so its time does not count
    towards the run's wall limit (a comparison of three models may load all three in one request)."""
    guard = _CURRENT.get()
    began = time.monotonic()
    try:
        yield
    finally:
        if guard is not None:
            guard.started += time.monotonic() - began


def check() -> None:
    """Stop here if the current run was cancelled or is out of time (between passes of a batch)."""
    guard = _CURRENT.get()
    if guard is not None:
        guard.check()


def watch(model: Any) -> Any:
    """Before each layer of `model` (each module of its layer stacks), check the current run's guard and
    take a turn on the CPU; after each forward pass of `model`, give the turn back. Once per model."""
    if getattr(model, "_run_guard_watched", False):
        return model
    import torch

    for stack in [module for module in model.modules() if isinstance(module, torch.nn.ModuleList)]:
        for layer in stack:
            layer.register_forward_pre_hook(_before_layer)
    model.register_forward_hook(_after_forward)
    model._run_guard_watched = True
    return model


def _before_layer(module: Any, args: Any) -> None:
    guard = _CURRENT.get()
    if guard is not None:
        guard.check()
        TURNS.take(guard)


def _after_forward(module: Any, args: Any, output: Any) -> None:
    guard = _CURRENT.get()
    if guard is not None:
        TURNS.give_back(guard)
