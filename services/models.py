"""One cache of loaded models: each loads lazily on first use, and only once.

Every model loads with eager attention, because under the default `sdpa` kernels
`output_attentions=True` silently returns no attentions. torch and transformers are imported
with the first load, not with this module, so the server starts answering sooner.

Without a network, a Hub model loads from the cache only (`local_files_only`) once a quick probe
(services.hub) finds the Hub out of reach, and a model that is not cached fails at once, with a
message that says why.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services import run_guard
from services.config import is_local, short_name
from services.errors import ModelLoadError
from services.hub import HubState, describe_size, hub_state, not_cached
from services.model_facts import ModelFacts, model_facts

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

# What a task needs from a checkpoint -> the transformers Auto class that builds it.
MODEL_CLASSES: dict[str, str] = {
    "encoder": "AutoModel",
    "sequence-classification": "AutoModelForSequenceClassification",
    "causal-lm": "AutoModelForCausalLM",
    "seq2seq-lm": "AutoModelForSeq2SeqLM",
    "masked-lm": "AutoModelForMaskedLM",
}

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class LoadedModel:
    """A model in eval mode on its device, with the tokenizer that goes with it."""

    source: str
    kind: str
    model: Any
    tokenizer: Any
    precision: str = "fp32"

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def max_length(self) -> int:
        """The longest input, in tokens, that the model accepts."""
        limits = [
            getattr(self.tokenizer, "model_max_length", None),
            getattr(self.model.config, "max_position_embeddings", None),
        ]
        # Tokenizers without a limit report a huge sentinel (int(1e30)).
        sane = [int(n) for n in limits if isinstance(n, int) and 0 < n < 1_000_000]
        return min(sane) if sane else 512

    @cached_property
    def facts(self) -> ModelFacts:
        return model_facts(self.source, self.model, self.tokenizer, max_length=self.max_length)


def device() -> torch.device:
    """CUDA when present, the CPU otherwise."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class ModelCache:
    """Loaded models by (kind, source, precision), least recently used first.

    Concurrent requests for one model wait for a single load. When the weights of the loaded models
    pass `budget_bytes`, the least recently used ones are dropped (a request still running on one
    keeps its own reference until it ends).
    """

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = budget_bytes
        self._models: OrderedDict[tuple[str, str, str], LoadedModel] = OrderedDict()
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(
        self, kind: str, source: str, *, precision: str = "fp32", on_load: ProgressCallback | None = None
    ) -> LoadedModel:
        key = (kind, source, precision)
        with self._guard:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            lock = self._locks.setdefault(key, threading.Lock())
        # Loading, or waiting for another request's load of it, is not waiting for the CPU (run_guard.loading).
        with run_guard.loading(), lock:
            if key not in self._models:
                if on_load is not None:
                    on_load(f"Loading {short_name(source)} ({describe_size(source)})…")
                # A failed load is not cached, so a later request retries it.
                self.add(load_model(kind, source, precision=precision))
        with self._guard:
            return self._models[key]

    def loaded(self) -> list[tuple[str, str, str]]:
        """Keys of the loaded models, least recently used first."""
        return list(self._models)

    def add(self, loaded: LoadedModel) -> LoadedModel:
        """Keep `loaded` (benchmarks also add full-size models built in memory), then fit the budget.
        Its layers check the run guard (services.run_guard), so a cancelled or overlong run stops."""
        key = (loaded.kind, loaded.source, loaded.precision)
        run_guard.watch(loaded.model)
        with self._guard:
            self._models[key] = loaded
            self._models.move_to_end(key)
            self._evict(keep=key)
        return loaded

    def discard(self, loaded: LoadedModel) -> None:
        """Forget `loaded`, so its memory can be freed (the next request for it loads it again)."""
        with self._guard:
            self._models.pop((loaded.kind, loaded.source, loaded.precision), None)

    def _evict(self, *, keep: tuple[str, str, str]) -> None:
        if self.budget_bytes is None:
            return
        from services.precision import weight_bytes

        sizes = {key: weight_bytes(loaded.model) for key, loaded in self._models.items()}
        for key in list(self._models):
            if sum(sizes[k] for k in self._models) <= self.budget_bytes:
                break
            if key != keep:
                logger.info("Memory budget: unloading %s %s (%s)", *key)
                del self._models[key]
        gc.collect()


MODELS = ModelCache()

# One load at a time in the process, whatever the model or tokenizer. Loads of different models at once
# raced in transformers itself: in a fresh process, four of five concurrent first loads failed with
# "module 'transformers' has no attribute 'AutoTokenizer'" (its lazy module is not thread-safe), which a
# class opening five tabs at once would meet. One at a time also keeps the peak memory of loading to one
# model's.
LOADING = threading.Lock()


def load_model(kind: str, source: str, *, precision: str = "fp32") -> LoadedModel:
    """Load `source` (a Hub id, a local folder, or a `.gguf` file) as a `kind` model in `precision`."""
    if kind not in MODEL_CLASSES:
        raise ValueError(f"Unknown model kind {kind!r}; expected one of {sorted(MODEL_CLASSES)}.")
    with LOADING:  # imports included: the first import of transformers is part of the race
        return _load_model(kind, source, precision=precision)


def _load_model(kind: str, source: str, *, precision: str) -> LoadedModel:
    import transformers

    from services.precision import convert

    _apply_threads()
    location, extra = _location(source)
    hub = None if is_local(source) else hub_state()
    if hub == "unreachable":  # the cache only: each Hub request would be retried for ~23 s
        logger.info("The Hub is out of reach: %s loads from the cache only", source)
        extra["local_files_only"] = True
    logger.info("Loading %s model %s", kind, source)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(location, **extra)
        auto_class = getattr(transformers, MODEL_CLASSES[kind])
        model = auto_class.from_pretrained(location, attn_implementation="eager", **extra)
        model = convert(model.to(device()).eval(), precision)
    except Exception as error:  # every loader failure becomes one clear message
        if hub in ("offline mode", "unreachable") and not_cached(error):  # expected with no network
            where = "in offline mode" if hub == "offline mode" else "out of reach"
            logger.warning("Could not load %s: it is not cached, and the Hub is %s", source, where)
        else:
            logger.exception("Could not load %s", source)
        raise ModelLoadError(_explain(source, error, hub=hub)) from error
    return LoadedModel(source=source, kind=kind, model=model, tokenizer=tokenizer, precision=precision)


_threads: list[int] = []  # set by configure_threads, applied before the first load


def configure_threads(workers: int) -> int:
    """Give torch cores // workers threads, so `workers` model runs at once never oversubscribe."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    _threads[:] = [max(1, cores // max(1, workers))]
    if "torch" in sys.modules:  # already imported: apply now; otherwise the first load does
        _apply_threads()
    return _threads[0]


def _apply_threads() -> None:
    if _threads:
        import torch

        torch.set_num_threads(_threads[0])


def _location(source: str) -> tuple[str, dict[str, Any]]:
    """Split a `.gguf` file path into its folder and the `gguf_file=` argument."""
    if source.endswith(".gguf"):
        path = Path(source)
        return str(path.parent), {"gguf_file": path.name}
    return source, {}


def _explain(source: str, error: Exception, *, hub: HubState | None = None, what: str = "the model") -> str:
    """One message for a failed load: what happened, in the visitor's terms, and what to do.

    `hub` is how the Hub stood for this load (None for a local source): when the model was simply
    not in the cache, the library's own text ("We couldn't connect…") would claim a connection
    that was never tried, so the message says what was known instead.
    """
    reason = _sentence(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
    reason, start = _without_paths(reason), f"Could not load {what} '{short_name(source)}'"
    if isinstance(error, MemoryError) or "out of memory" in reason.lower() or "can't allocate" in reason:
        return f"{start}: {reason} There is not enough memory for it; choose a smaller model."
    if Path(source).expanduser().exists():
        return f"{start}: {reason} Its files look missing or corrupt; check the folder, or download the model again."
    if hub is None:
        return (
            f"{start}: there is no such file or folder. Check the path, or give a Hub id and download it first "
            "(see the README's 'Offline' section)."
        )
    if not_cached(error) and hub == "offline mode":
        return (
            f"{start}: it is not in the Hugging Face cache, and the app is in offline mode (HF_HUB_OFFLINE), "
            "so nothing is downloaded; download the models while online first (see the README's 'Offline' section)."
        )
    if not_cached(error) and hub == "unreachable":
        return (
            f"{start}: it is not in the Hugging Face cache, and the Hub cannot be reached to download it; connect "
            "to the network and try again, or download the models beforehand (see the README's 'Offline' section)."
        )
    return (
        f"{start}: {reason} Check the model's name; if you are offline, download the models first "
        "(see the README's 'Offline' section)."
    )


# An absolute path in a library's message: the visitor sees its last two parts, as model titles show them.
_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"`/]+/)+[^\s'\"`/,;:]*")


def _without_paths(text: str) -> str:
    """`text` with each absolute path cut to its last two parts: where the server keeps files is not the
    visitor's business (the log keeps the whole path)."""
    return _PATH.sub(lambda match: "/".join(Path(match.group()).parts[-2:]), text)


def _sentence(text: str) -> str:
    """`text` ending in exactly one full stop (or its own ? or !), whatever the library ended it with."""
    text = text.rstrip(" .:;,")
    return text if text.endswith(("?", "!")) else f"{text}."
