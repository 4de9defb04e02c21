"""Figures already drawn, kept for the next visitor who asks for the same view of the same run.

A shared result (services.shared_results) is one immutable run that a whole class redraws: forty
students clicking one example ask for the same default view forty times, and drawing it (the heatmap,
the focus bars, their JSON) cost a third of a repeat's CPU. Drawing is a pure function of the run and
the view, so the payloads are kept, least recently used first, within a byte budget of their own. Only
the attention lens is kept: the others draw what their stores hold, which changes as lenses compute.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from components.explorer import lenses
from components.explorer.drawing import Drawing
from components.explorer.export import plot_payload
from components.explorer.view import View
from services.attention_maps import AttentionMaps

T = TypeVar("T")
BUDGET_BYTES = 64 * 10**6  # a few hundred default views; one at the 1 MB payload limit is 1 MB


class DrawnFigures:
    """Drawings by (run, view), each with its size in bytes; a run that is gone takes its drawings with it."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._drawn: OrderedDict[tuple[int, Hashable], tuple[weakref.ref, Any, int]] = OrderedDict()
        self._held = 0
        # Reentrant: a run collected while the lock is held drops its drawings from inside the lock.
        self._lock = threading.RLock()

    def get(self, maps: AttentionMaps, key: Hashable, draw: Callable[[], T], size: Callable[[T], int]) -> T:
        """What `draw()` returns for view `key` of `maps`, drawn once while kept."""
        slot = (id(maps), key)
        with self._lock:
            found = self._drawn.get(slot)
            if found is not None and found[0]() is maps:  # not another run at a reused address
                self._drawn.move_to_end(slot)
                return found[1]
        value = draw()
        nbytes = size(value)
        if nbytes > self.budget_bytes:
            return value
        with self._lock:
            self._forget(slot)
            self._drawn[slot] = (weakref.ref(maps, lambda _: self._gone(slot)), value, nbytes)
            self._held += nbytes
            while self._held > self.budget_bytes:
                self._forget(next(iter(self._drawn)))
        return value

    @property
    def held_bytes(self) -> int:
        return self._held

    def _gone(self, slot: tuple[int, Hashable]) -> None:
        with self._lock:
            self._forget(slot)

    def _forget(self, slot: tuple[int, Hashable]) -> None:
        found = self._drawn.pop(slot, None)
        if found is not None:
            self._held -= found[2]


DRAWN = DrawnFigures()


def drawn_view(maps: AttentionMaps, view: View, *, stem: str) -> Drawing:
    """The view's drawing, its figures already turned into gr.Plot payloads (named after `stem`); an attention
    view of a run is drawn once while kept."""

    def draw() -> Drawing:
        drawing = lenses.draw(maps, view)
        top = drawing.top_figure
        return dataclasses.replace(
            drawing,
            main=plot_payload(drawing.main, filename=stem),
            focus_figure=plot_payload(drawing.focus_figure, filename=f"{stem}_focus"),
            top_figure=None if top is None else plot_payload(top, filename=f"{stem}_step"),
        )

    if view.lens != "attention":
        return draw()
    return DRAWN.get(maps, (stem, view), draw, size=_payload_bytes)


def _payload_bytes(drawn: Drawing) -> int:
    figures = (drawn.main, drawn.focus_figure, drawn.top_figure)
    return sum(len(figure.plot) for figure in figures if figure is not None) + drawn.matrix.nbytes
