"""Results of deterministic runs, shared by every visitor who asks for the same thing.

When a class clicks the same example at once, each request used to run the model again, so the last
student waited forty runs. A run is deterministic when its answer depends only on what was asked:
the task, the model, the precision, the inputs and every option (greedy decoding and beam search
always; sampling only with a seed). Such a result is kept here, keyed by all of those, and the same
request from any visitor gets the very same result object, without a forward pass.

Results are immutable (frozen dataclasses; their arrays are made read-only as they enter), so two
visitors holding one result share nothing they could change: each session stores its own run key and
draws its own explorer view from it. Concurrent identical requests fly once: the first runs the
model, the others wait for its result (holding no CPU turn, and stopping if cancelled) instead of
queueing forty runs. The store keeps the least recently used results within `budget_bytes` of arrays.
Torch-free.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from services import run_guard

T = TypeVar("T")
WAIT_POLL_SECONDS = 0.1  # how often a request waiting for another's identical run looks whether it was cancelled


def key_of(task: str, *args: Any, **options: Any) -> Hashable:
    """A hashable key of a run: its task, inputs and options (callbacks, `on_*`, change nothing and are left out)."""
    named = tuple(sorted((name, _frozen(value)) for name, value in options.items() if not name.startswith("on_")))
    return (task, tuple(_frozen(arg) for arg in args), named)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    hash(value)  # a value that cannot be a key fails here, loudly, not as a silent miss
    return value


def array_bytes(value: Any) -> int:
    """Bytes of the arrays a result holds (its attention), found through dataclass fields and sequences."""
    return sum(array.nbytes for array in _arrays(value, set()))


def _arrays(value: Any, seen: set[int]) -> Iterator[Any]:
    if id(value) in seen or isinstance(value, str | bytes | int | float | bool | type(None)):
        return
    seen.add(id(value))
    if hasattr(value, "nbytes") and hasattr(value, "flags"):  # a numpy array
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _arrays(getattr(value, field.name), seen)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _arrays(item, seen)


class _Flight:
    """One run in progress that identical requests wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.kept = False


class Claim:
    """A request's hold on a key: `value` is the shared result, or None and the request runs the model
    and offers its result with `keep`."""

    def __init__(self, store: SharedResults, key: Hashable, value: Any = None, flight: _Flight | None = None) -> None:
        self.store, self.key, self.value, self._flight = store, key, value, flight

    def keep(self, value: Any) -> None:
        """Share `value` with the requests waiting for it and the ones to come."""
        if self._flight is not None:
            self.store._keep(self.key, value, self._flight)


class SharedResults:
    """Deterministic results by key, least recently used first, within `budget_bytes` of arrays."""

    def __init__(self, budget_bytes: int | None = None, enabled: bool = True) -> None:
        self.budget_bytes = budget_bytes
        self.enabled = enabled
        self.hits = self.misses = 0
        self.waiting = 0  # requests waiting now for an identical request's run
        self._results: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._guard = threading.Lock()

    def configure(self, *, enabled: bool, budget_bytes: int | None) -> None:
        """Switch sharing on or off within a new budget (app start-up); what was kept is dropped."""
        with self._guard:
            self.enabled, self.budget_bytes = enabled, budget_bytes
            self._results.clear()
            self.hits = self.misses = 0

    @property
    def held_bytes(self) -> int:
        with self._guard:
            return sum(size for _, size in self._results.values())

    def __len__(self) -> int:
        with self._guard:
            return len(self._results)

    def call(self, task: str, run: Callable[..., T], *args: Any, **options: Any) -> T:
        """`run(*args, **options)`, or the result an identical earlier run left. Kept unless the run's time ran
        out (a translation cut short would be shared as if whole)."""
        with self.claim(key_of(task, *args, **options)) as claim:
            if claim.value is not None:
                return claim.value
            value = run(*args, **options)
            guard = run_guard.current()
            if guard is None or not guard.ran_out:
                claim.keep(value)
            return value

    def stream(
        self,
        key: Hashable | None,
        start: Callable[[], Iterator[T]],
        *,
        keep: Callable[[T], bool],
        wait_seconds: float | None = None,
    ) -> Iterator[T]:
        """The updates of `start()` (a streamed run), the first one `keep` accepts shared under `key`; or, when
        an identical run left its result, that result alone: the final state, not the stream again."""
        with self.claim(key, wait_seconds=wait_seconds) as claim:
            if claim.value is not None:
                yield claim.value
                return
            for update in start():
                if keep(update):
                    claim.keep(update)
                yield update

    @contextmanager
    def claim(self, key: Hashable | None, *, wait_seconds: float | None = None) -> Iterator[Claim]:
        """The shared result of `key` (None: a run nobody may share), or the right to compute it.

        While another request computes the same key, wait for it (at most `wait_seconds`; the run's guard
        stops the wait when cancelled); if it keeps nothing (it failed, or ran out of time), the next
        waiting request runs the model itself."""
        if not self.enabled or key is None:
            yield Claim(self, key)
            return
        flight = self._lead_or_wait(key, wait_seconds)
        if isinstance(flight, Claim):
            yield flight
            return
        try:
            yield Claim(self, key, flight=flight)
        finally:
            with self._guard:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()

    def _lead_or_wait(self, key: Hashable, wait_seconds: float | None) -> _Flight | Claim:
        """A Claim holding the shared value, or a new flight this request leads (runs the model for)."""
        waited = 0.0
        while True:
            with self._guard:
                if key in self._results:
                    self._results.move_to_end(key)
                    self.hits += 1
                    return Claim(self, key, value=self._results[key][0])
                flight = self._flights.get(key)
                if flight is None or (wait_seconds is not None and waited >= wait_seconds):
                    self.misses += 1
                    mine = _Flight()
                    self._flights.setdefault(key, mine)
                    return mine
            waited = self._wait(flight, waited, wait_seconds)
            if flight.kept:
                with self._guard:
                    self.hits += 1
                return Claim(self, key, value=flight.value)

    def _wait(self, flight: _Flight, waited: float, wait_seconds: float | None) -> float:
        """Wait for `flight` to land, or `wait_seconds` in all; a cancelled request stops waiting. Returns the
        seconds waited so far."""
        with self._guard:
            self.waiting += 1
        try:
            while not flight.done.wait(WAIT_POLL_SECONDS):
                run_guard.check()
                waited += WAIT_POLL_SECONDS
                if wait_seconds is not None and waited >= wait_seconds:
                    break
        finally:
            with self._guard:
                self.waiting -= 1
        return waited

    def _keep(self, key: Hashable, value: Any, flight: _Flight) -> None:
        arrays = list(_arrays(value, set()))
        for array in arrays:
            array.flags.writeable = False  # shared by many sessions: nobody may change it in place
        flight.value, flight.kept = value, True  # the requests waiting now share it, whatever its size
        size = sum(array.nbytes for array in arrays)
        if self.budget_bytes is not None and size > self.budget_bytes:
            return  # larger than the whole share: not kept for later, rather than push every other result out
        with self._guard:
            self._results[key] = (value, size)
            self._results.move_to_end(key)
            held = sum(kept for _, kept in self._results.values())
            while self.budget_bytes is not None and held > self.budget_bytes:
                _, (_, dropped) = self._results.popitem(last=False)
                held -= dropped


# The app's one store; components.limits sets its budget (a share of the results budget) and switch.
SHARED = SharedResults()
