"""What every measurement gets: the mode, the repeat count, the models and the in-process servers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.models import ModelStore
from bench.timing import Call, Paired, paired

logger = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass
class Context:
    """One bench run.

    `repeats` is how often each ratio is measured; `min_seconds` is how long one timed sample
    lasts at least (fast calls are looped). `quick` shortens the slow parts (fewer tokens,
    fewer sentences, fewer models saved to disk), never the definition of a ratio.
    """

    quick: bool
    repeats: int
    store: ModelStore
    min_seconds: float = 0.2
    _servers: dict[int, Any] = field(default_factory=dict)

    def pick(self, quick: Any, full: Any) -> Any:
        """`quick` in a quick run, else `full`."""
        return quick if self.quick else full

    def paired(self, a: Call, b: Call, *, min_seconds: float | None = None) -> Paired:
        """A and B timed alternately, this run's repeats of samples of `min_seconds` (default: the run's)."""
        return paired(a, b, repeats=self.repeats, min_seconds=self.min_seconds if min_seconds is None else min_seconds)

    def server(self, translation_tokens: int = 32) -> Any:
        """The app, launched in this process on the bench models; one per translation limit."""
        if translation_tokens not in self._servers:
            from bench.measure_server import BenchServer

            logger.info("launching the app in-process (translation limit %d tokens)", translation_tokens)
            self._servers[translation_tokens] = BenchServer(self.store, translation_tokens=translation_tokens)
        return self._servers[translation_tokens]

    def close_servers(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()
