"""Model handlers that share the worker fairly: a time limit per request, and a cancel that stops the work.

Gradio runs a plain handler in a thread and, when the visitor cancels, abandons that thread: the queue
slot is freed while the model runs on, so six cancels meant six runs at once on two cores. Here a
model handler runs in a thread under a `RunGuard` (services.run_guard): a cancel sets its flag, the
model stops at its next layer, and the slot is given back only then. What a cancelled run stored is
dropped. Streaming handlers (generation) stop when Gradio closes them, and bound their own time.
`SessionQuota` limits how often one session may do something that writes to disk (exports, links).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.context import LocalContext

from components.errors import user_errors
from services import run_guard
from services.errors import InputError

OUT_OF_TIME = "The model stopped after {seconds:.0f} s, this Space's limit per request; what it wrote so far is shown."


def session_id() -> str | None:
    """The session of the event being handled (Gradio's session hash), or None outside an event."""
    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None)


def model_run(fn: Callable[..., Any], *, seconds: float | Callable[[], float | None] | None) -> Callable[..., Any]:
    """`fn` as a handler of a model event: failures become messages (user_errors), and a plain handler
    holds the worker for at most about `seconds` (or what `seconds()` says at each call) and stops when
    cancelled."""
    handler = user_errors(fn)
    if inspect.isgeneratorfunction(fn):
        return handler

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        limit = seconds() if callable(seconds) else seconds
        guard = run_guard.RunGuard(limit)
        context = contextvars.copy_context()
        work = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(context.run, _under, guard, handler, *args, **kwargs)
        )
        try:
            result = await asyncio.shield(work)
        except asyncio.CancelledError:
            guard.cancel()  # the model stops at its next layer
            await asyncio.wait([work])  # and the slot stays taken until it has
            _forget(guard.stored)
            raise
        if guard.ran_out:
            gr.Warning(OUT_OF_TIME.format(seconds=limit))
        return result

    return run


class SessionQuota:
    """How many times a minute one session may do something that writes to the server's disk."""

    def __init__(self, control: str, things: str, per_minute: int | None = None) -> None:
        self.control, self.things, self.per_minute = control, things, per_minute
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, session: str | None) -> None:
        """Count one for `session`, or raise InputError when it has had its share of this minute."""
        if self.per_minute is None or session is None:
            return
        now = time.monotonic()
        with self._lock:
            for other in [s for s, times in self._times.items() if times[-1] < now - 60]:
                del self._times[other]
            times = self._times.setdefault(session, deque())
            while times and times[0] < now - 60:
                times.popleft()
            if len(times) >= self.per_minute:
                raise InputError(
                    f"{self.control}: you have made {len(times)} {self.things} in the last minute, the most this "
                    f"Space allows. Please wait {60 - (now - times[0]):.0f} s."
                )
            times.append(now)


def _under(guard: run_guard.RunGuard, handler: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with run_guard.guarding(guard):
        return handler(*args, **kwargs)


def _forget(keys: list[str]) -> None:
    from components.explorer.run_store import RUNS

    for key in keys:
        RUNS.discard(key)
