"""Waiting, said plainly: Gradio's own queue display (the place in the queue and an estimate), tuned.

Gradio estimates a waiting visitor's time from each event's mean duration since the server started. A
model's first run includes loading it (a minute or more for some), so one cold start kept every later
estimate far too long: on 2 cores, a sentiment request behind a warm SmolLM2 generation showed
"5.3/81.0s", the 81 s mostly that model's first load. Here each event's time is the median of its recent
runs, so a cold load counts once and the estimate follows what runs cost now.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from typing import Any

RECENT_RUNS = 9  # runs of one event the estimate looks at: enough that one cold load is an outlier


class RecentTime:
    """In place of gradio.queueing.ProcessTime: `avg_time` is the median of the last RECENT_RUNS durations."""

    def __init__(self) -> None:
        self.recent: deque[float] = deque(maxlen=RECENT_RUNS)
        self.count = 0
        self.process_time = 0.0
        self.avg_time = 0.0

    def add(self, time: float) -> None:
        self.recent.append(time)
        self.count += 1
        self.process_time += time
        self.avg_time = statistics.median_low(self.recent)


def tune(demo: Any) -> None:
    """Estimate `demo`'s queue times from recent runs (call after `demo.queue()`)."""
    demo._queue.process_time_per_fn = defaultdict(RecentTime)
