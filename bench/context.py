"""What every measurement gets: the mode, the repeat count and the models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.models import ModelStore
from bench.timing import Call, Paired, paired

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Context:
    """One bench run: `repeats` of each ratio, samples of at least `min_seconds` (fast calls are looped).
    `quick` shortens the slow parts (fewer tokens, sentences, models), never the definition of a ratio."""

    quick: bool
    repeats: int
    store: ModelStore
    min_seconds: float = 0.2

    def pick(self, quick: Any, full: Any) -> Any:
        """`quick` in a quick run, else `full`."""
        return quick if self.quick else full

    def paired(self, a: Call, b: Call, *, min_seconds: float | None = None) -> Paired:
        """A and B timed alternately, this run's repeats of samples of `min_seconds` (default: the run's)."""
        return paired(a, b, repeats=self.repeats, min_seconds=self.min_seconds if min_seconds is None else min_seconds)
