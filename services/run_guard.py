"""How long one request may hold a model worker, and how a cancelled run stops.

A `RunGuard` is one request's budget: a time limit, and a flag set when the visitor cancels. Every
loaded model checks the guard of the run in progress before each of its layers (a forward pre-hook on
each layer stack), so a run that is cancelled, or that outstays its limit, stops within one layer,
whatever its task and settings. Decoding loops (generation, translation) ask for the time left and
stop writing before that, keeping what they wrote; the layer check is the backstop. Torch-free until
a model is watched.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services.errors import PlaygroundError

# A decoding loop stops at its limit and then needs a last pass for the attention; the layer check
# allows this much more before it stops a run outright.
GRACE_SECONDS = 3.0

CANCELLED = "The run was cancelled."
OVER_TIME = (
    "This request needed more than the {seconds:.0f} s one request may use the model on this Space, so it "
    "was stopped. Please send less at a time: fewer or shorter texts, fewer labels or new tokens."
)


class RunStopped(PlaygroundError):
    """A run was cancelled, or outstayed its time; the message says which, and what to do."""


@dataclass
class RunGuard:
    """One request's hold on a model worker: `seconds` of it (None: no limit), until cancelled."""

    seconds: float | None
    started: float = field(default_factory=time.monotonic)
    cancelled: threading.Event = field(default_factory=threading.Event)
    # Set by a decoding loop that stopped early because its time was up, so the page can say so.
    ran_out: bool = False
    # Keys of the results the run stored: a cancelled run's results are dropped.
    stored: list[str] = field(default_factory=list)

    def seconds_left(self) -> float | None:
        if self.seconds is None:
            return None
        return self.seconds - (time.monotonic() - self.started)

    def cancel(self) -> None:
        self.cancelled.set()

    def check(self) -> None:
        """Raise RunStopped when the run was cancelled, or is past its time and the grace after it."""
        if self.cancelled.is_set():
            raise RunStopped(CANCELLED)
        left = self.seconds_left()
        if left is not None and left < -GRACE_SECONDS:
            raise RunStopped(OVER_TIME.format(seconds=self.seconds))


_CURRENT: contextvars.ContextVar[RunGuard | None] = contextvars.ContextVar("run_guard", default=None)


def current() -> RunGuard | None:
    """The guard of the run this thread is doing, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def guarding(guard: RunGuard) -> Iterator[RunGuard]:
    """Run the block under `guard`: the models it calls check it before each layer."""
    token = _CURRENT.set(guard)
    try:
        yield guard
    finally:
        _CURRENT.reset(token)


def check() -> None:
    """Stop here if the current run was cancelled or is out of time (between passes of a batch)."""
    guard = _CURRENT.get()
    if guard is not None:
        guard.check()


def seconds_left(default: float | None = None) -> float | None:
    """Time left to the current run (for a decoding loop's `max_time`), or `default` outside a run."""
    guard = _CURRENT.get()
    left = None if guard is None else guard.seconds_left()
    return default if left is None else max(0.1, left)


def note_if_out_of_time() -> None:
    """After a decoding loop: if the current run's time is up, the loop was cut short by it (the page says so)."""
    guard = _CURRENT.get()
    left = None if guard is None else guard.seconds_left()
    if left is not None and left <= 0:
        guard.ran_out = True


def watch(model: Any) -> Any:
    """Check the current guard before each layer of `model` (each module of its layer stacks); once."""
    if getattr(model, "_run_guard_watched", False):
        return model
    import torch

    for stack in [module for module in model.modules() if isinstance(module, torch.nn.ModuleList)]:
        for layer in stack:
            layer.register_forward_pre_hook(_before_layer)
    model._run_guard_watched = True
    return model


def _before_layer(module: Any, args: Any) -> None:
    check()
