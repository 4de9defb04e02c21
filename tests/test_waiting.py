"""The queue's estimates follow recent runs: one cold model load does not inflate every later estimate."""

from __future__ import annotations

from components.waiting import RecentTime


def test_an_estimate_follows_recent_runs_not_a_cold_start():
    """One cold load (80 s) among quick runs (2–3 s) stops counting once a second run is timed."""
    times = RecentTime()
    times.add(80.0)
    assert times.avg_time == 80.0
    for seconds in (2.0, 3.0):
        times.add(seconds)
    assert times.avg_time == 3.0
    assert times.count == 3 and times.process_time == 85.0
