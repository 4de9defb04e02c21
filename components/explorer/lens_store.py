"""Lens results of the stored runs: computed only when asked for, kept while their run is kept.

Keyed by the run's `AttentionMaps` object, weakly: when the run store lets a run go, its lens results
go with it. A run keeps the latest result of each lens (a knock-out of other heads replaces the last
one), so the lenses add at most one knocked-out copy of its attention to what the run store holds.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from services.attention_maps import AttentionMaps
from services.config import Limits
from services.errors import InputError


@dataclass(frozen=True)
class Declined:
    """A lens that cannot run on this input, and why: the explorer shows the message in place of its picture."""

    message: str


class LensStore:
    """Results by run, lens name and what the lens was asked (its key: the heads of a knock-out)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()  # app.py sets the Space's own
        self._results: weakref.WeakKeyDictionary[AttentionMaps, dict[str, tuple[Hashable, Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self._guard = threading.Lock()

    def get(self, maps: AttentionMaps, name: str, key: Hashable = ()) -> Any | None:
        """The stored result (or a `Declined`), or None when this lens was not computed with this key."""
        with self._guard:
            stored = self._results.get(maps, {}).get(name)
        return stored[1] if stored is not None and stored[0] == key else None

    def compute(self, maps: AttentionMaps, name: str, key: Hashable, work: Callable[[], Any]) -> Any:
        """The stored result, or `work()`'s, kept; an InputError (over budget, int8 weights) is kept as Declined."""
        found = self.get(maps, name, key)
        if found is not None:
            return found
        try:
            result = work()
        except InputError as error:
            result = Declined(str(error))
        with self._guard:
            self._results.setdefault(maps, {})[name] = (key, result)
        return result


# The app's one store; app.py sets its limits from the settings.
LENS_RESULTS = LensStore()
