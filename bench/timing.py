"""Repeat, pair and summarise timings, and watch how much of the CPU other processes take meanwhile.

On a shared 2-core machine absolute times drift by tens of percent between minutes, so every
number the bench reports is a ratio of two things timed in the same run, interleaved repeat by
repeat (A B, then B A), and summarised by its median and spread over the repeats.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

logger = logging.getLogger("bench")

Call = Callable[[], Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Spread:
    """Median and spread of repeated values: min–max and the quartiles."""

    median: float
    low: float
    high: float
    q1: float
    q3: float
    n: int


def summarize(values: Sequence[float]) -> Spread:
    """The median, min, max and quartiles of `values` (quartiles equal the median below 2 values)."""
    if not values:
        raise ValueError("No values to summarise.")
    ordered = sorted(float(v) for v in values)
    median = statistics.median(ordered)
    q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else [median] * 3
    return Spread(median=median, low=ordered[0], high=ordered[-1], q1=q1, q3=q3, n=len(ordered))


def median_ms(seconds: Sequence[float]) -> float:
    """The median of `seconds`, in milliseconds, rounded for a report."""
    return round(summarize(seconds).median * 1000, 2)


@dataclass(frozen=True)
class Paired:
    """Per-repeat seconds per call of A and B, timed alternately in one run."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    def ratios(self) -> list[float]:
        """A / B, repeat by repeat."""
        return [x / y for x, y in zip(self.a, self.b, strict=True)]


def rotations(calls: Sequence[Callable[[], T]], repeats: int) -> list[list[T]]:
    """What each of `calls` returns, repeat by repeat, each repeat starting with the next call (A B, then
    B A), so a slow drift of the machine weighs on every call alike; repeats pass the gate and deadline."""
    results: list[list[T]] = [[] for _ in calls]
    for index in range(repeats):
        if index and DEADLINE.passed():
            break
        order = [(index + offset) % len(calls) for offset in range(len(calls))]
        for which, result in GATE.run(lambda order=order: [(i, calls[i]()) for i in order]):
            results[which].append(result)
    return results


def sample(call: Call, calls: int) -> float:
    """Mean seconds per call over `calls` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls


def interleaved(calls: Sequence[Call], *, repeats: int, min_seconds: float = 0.2) -> list[list[float]]:
    """Seconds per call of each of `calls`, repeat by repeat, in rotation; a sample lasts `min_seconds`.

    The first call of a path pays for kernel selection and allocation (several seconds for a
    360M-parameter `generate`), so it is never timed: it only sizes the samples (timer noise is ~1 ms).
    """
    counts = [max(1, min(1000, math.ceil(min_seconds / max(sample(call, 1), 1e-6)))) for call in calls]
    return rotations([partial(sample, call, count) for call, count in zip(calls, counts, strict=True)], repeats)


def paired(a: Call, b: Call, *, repeats: int, min_seconds: float = 0.2) -> Paired:
    """Time A and B alternately `repeats` times, after one untimed call of each."""
    times_a, times_b = interleaved((a, b), repeats=repeats, min_seconds=min_seconds)
    return Paired(a=tuple(times_a), b=tuple(times_b))


@dataclass(frozen=True)
class CpuSnapshot:
    """Machine-wide busy and total CPU ticks, and this process's own (its reaped children included)."""

    busy: int
    total: int
    own: int


def cpu_snapshot() -> CpuSnapshot:
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    with open("/proc/self/stat", encoding="ascii") as own:
        fields = own.read().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 after the command name.
    mine = sum(int(v) for v in fields[11:15])
    return CpuSnapshot(busy=sum(ticks) - idle, total=sum(ticks), own=mine)


def others_share(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """The share of the CPU (0 to 1) other processes used between two snapshots: above ~10%, what was
    measured meanwhile is noisy, as a test run elsewhere can slow one side of a ratio and not the other."""
    total = after.total - before.total
    if total <= 0:
        return 0.0
    others = (after.busy - before.busy) - (after.own - before.own)
    return min(1.0, max(0.0, others / total))


@dataclass
class QuietGate:
    """Redo a repeat during which other processes took more than `limit` of the CPU, until `budget_s`
    seconds have gone to redos (then the section's note says its numbers are noisy). On 2 cores with 2
    torch threads each parallel region waits for the thread that lost its core: one side of a ratio
    can come out 10-20x slower."""

    limit: float = 0.25
    budget_s: float = 0.0
    redone: int = 0

    def run(self, repeat: Callable[[], T]) -> T:
        while True:
            before, start = cpu_snapshot(), time.perf_counter()
            result = repeat()
            share, spent = others_share(before, cpu_snapshot()), time.perf_counter() - start
            if share <= self.limit or spent > self.budget_s:
                return result
            self.budget_s -= spent
            self.redone += 1
            logger.info("  other processes took %.0f%% of the CPU: timing that repeat again", share * 100)


GATE = QuietGate()


class Deadline:
    """When a run must wrap up (a quick run ends within 10 minutes even when another process takes a
    core): sections not started by then are skipped, and loops keep the repeats they have, at least one."""

    at: float | None = None

    def set(self, seconds_from_now: float | None) -> None:
        self.at = None if seconds_from_now is None else time.perf_counter() + seconds_from_now

    def passed(self) -> bool:
        return self.at is not None and time.perf_counter() > self.at


DEADLINE = Deadline()
