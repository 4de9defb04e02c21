"""What a lens may spend: rows per pass within a memory budget, and passes within a time budget.

A lens runs the model many times (Integrated Gradients 32 steps, head importance once per head), so
each estimates its cost from one timed pass before it starts, and declines with a message that says
what it would take when that is over the Space's budget (`Limits.max_lens_seconds`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from services.errors import InputError
from services.models import LoadedModel

T = TypeVar("T")
MAX_ROWS = 64  # copies of the input in one pass: past this, a bigger batch no longer runs faster on a CPU


def rows_per_pass(loaded: LoadedModel, tokens: int, *, logits: int, budget_bytes: int, grad: bool = False) -> int:
    """How many copies of a `tokens`-token input one pass may take within `budget_bytes`.

    Per copy and layer, eager attention holds [heads, tokens, tokens] scores and weights (kept for the
    backward pass when `grad`), and the pass returns `logits` float32 numbers per copy.
    """
    facts = loaded.facts
    layers = facts.layers + 2 * facts.decoder_layers
    held = 4 if grad else 2
    per_copy = layers * facts.heads * tokens * tokens * 4 * held + logits * 4 * (2 if grad else 1)
    per_copy += layers * tokens * facts.hidden_size * 4 * (12 if grad else 2)
    return max(1, min(MAX_ROWS, budget_bytes // max(1, per_copy)))


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """`work()`, and the seconds it took."""
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def check_time(estimate_s: float, budget_s: float, *, what: str, advice: str) -> None:
    """Decline work estimated past the budget, saying how long it would take and what to try instead."""
    if estimate_s > budget_s:
        raise InputError(
            f"{what} would take about {_duration(estimate_s)} here; this Space allows {_duration(budget_s)} "
            f"per lens. {advice}"
        )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"
