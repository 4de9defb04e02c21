"""Giving memory back to the system when the model runs of a burst are over.

glibc keeps the memory Python and torch free in its arenas, so a process's RSS stays at its peak after
a burst of big runs. Measured on full-size DistilBERT and BERT-base, 12 runs of 512 tokens from three
threads (2 cores): RSS rose 31% over its level before; a garbage collection left it 21% above, and
`malloc_trim(0)` then brought it to within 1% of it, in 40 ms (9 ms after a one-thread burst).
MALLOC_ARENA_MAX=2 alone still left it 14% above. So when a burst is over (no run for a second), the app
collects garbage and trims the heap, at most every few seconds, on a timer thread: in a process holding
Gradio, plotly and torch, a full collection takes tens to hundreds of milliseconds, which no visitor
should wait for (it was a third of /sentiment's model time when it ran on the response's path).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 5.0
IDLE_SECONDS = 1.0  # how long no run must be in progress before the burst counts as over

_lock = threading.Lock()
_last = 0.0


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


_TRIM = _malloc_trim()


def give_back() -> bool:
    """Collect garbage and return the heap's free memory to the system; False when done too recently."""
    global _last
    with _lock:
        now = time.monotonic()
        if now - _last < MIN_INTERVAL_SECONDS:
            return False
        _last = now
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)
    return True


_timer: threading.Timer | None = None


def give_back_when_idle(idle: Callable[[], bool], *, after: float | None = None) -> None:
    """In `after` seconds, on a timer thread, `give_back()` if `idle()` still says no run is in progress.

    A later call replaces a pending one, so a burst gives back once, after its last run.
    """
    global _timer

    def later() -> None:
        if idle():
            give_back()

    timer = threading.Timer(IDLE_SECONDS if after is None else after, later)
    timer.daemon = True
    with _lock:
        if _timer is not None:
            _timer.cancel()
        _timer = timer
    timer.start()
