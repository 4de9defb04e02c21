"""Model runs ready for ZeroGPU: each task's run goes through `spaces.GPU`, a no-op anywhere else.

On a ZeroGPU Space (`SPACES_ZERO_GPU` set by Hugging Face), `spaces.GPU` lends a run a GPU for at most
the seconds it asks for, in a worker process forked from the server. Its arguments and its result
cross a pipe, so a run takes and returns plain values (texts, token ids, frozen dataclasses of numpy
arrays), never a model or a callback: each model loads first, in the server, with its progress shown
(services.models), and the run finds it in the model cache. Off ZeroGPU, `spaces.GPU` returns the
function itself, so the run is a plain call in the handler's thread, under its run guard.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import spaces
from spaces.config import Config

from services.config import GPU_PASS_SECONDS, GPU_SPARE_SECONDS, Limits
from services.run_guard import GRACE_SECONDS

F = TypeVar("F", bound=Callable[..., Any])

# Modules whose runs go through `spaces.GPU`. ZeroGPU registers a Space's GPU functions when it launches,
# so on ZeroGPU they are imported before launch (`prepare`); elsewhere torch still loads on first use.
RUN_MODULES = (
    "services.sentiment",
    "services.fill_mask",
    "services.zero_shot",
    "services.attention",
    "services.generation",
    "services.translation",
    "services.lenses.ablation",
    "services.lenses.attribution",
    "services.lenses.importance",
    "services.lenses.logit_lens",
)


@dataclass(frozen=True)
class Run:
    """One model run as written (`fn`), as `spaces.GPU` returned it (`decorated`), and its GPU seconds."""

    fn: Callable[..., Any]
    decorated: Callable[..., Any]
    seconds: Callable[..., int]


RUNS: dict[str, Run] = {}  # by "module.function"
_limits = [Limits()]  # the process's limits, set by configure()


def on_zero_gpu() -> bool:
    """Whether this process runs on a ZeroGPU Space."""
    return Config.zero_gpu


def configure(limits: Limits) -> None:
    """The limits runs bounded by the settings (translation) ask their GPU seconds from."""
    _limits[0] = limits


def prepare() -> None:
    """On ZeroGPU, import every run now, so the Space finds its GPU functions at launch."""
    if on_zero_gpu():
        for module in RUN_MODULES:
            importlib.import_module(module)


def run(seconds: Callable[..., float]) -> Callable[[F], F]:
    """Send a model run through `spaces.GPU`; `seconds(*args, **kwargs)` is what one call may need of a GPU
    (GPU_SPARE_SECONDS are added)."""

    def decorate(fn: F) -> F:
        def duration(*args: Any, **kwargs: Any) -> int:
            return math.ceil(seconds(*args, **kwargs) + GPU_SPARE_SECONDS)

        decorated = spaces.GPU(fn, duration=duration)
        RUNS[f"{fn.__module__}.{fn.__qualname__}"] = Run(fn=fn, decorated=decorated, seconds=duration)
        return decorated

    return decorate


def one_pass(*args: Any, **kwargs: Any) -> float:
    """A run of a few forward passes."""
    return GPU_PASS_SECONDS


def decoding(*args: Any, max_seconds: float | None = None, **kwargs: Any) -> float:
    """A decoding run: its own time limit, or the Space's per request, with the grace of its last pass."""
    limit = _limits[0].max_run_seconds if max_seconds is None else max_seconds
    return limit + GRACE_SECONDS


def lens(*args: Any, max_seconds: float, **kwargs: Any) -> float:
    """A lens: the seconds it may spend."""
    return max_seconds
