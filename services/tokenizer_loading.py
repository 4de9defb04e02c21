"""Tokenizers alone, without their weights, loaded lazily through one cache.

The tokenizers tab runs one text through every configured model's tokenizer: loading eight models'
weights for that would cost gigabytes, their tokenizers a few megabytes. A `.gguf` file's tokenizer
is read with `gguf_file=`.
Failures become one clear message per model, as model loads do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from services.config import is_local, short_name
from services.errors import ModelLoadError
from services.hub import hub_state, not_cached

logger = logging.getLogger(__name__)


class TokenizerCache:
    """Loaded tokenizers by source; concurrent requests for one tokenizer wait for a single load."""

    def __init__(self) -> None:
        self._tokenizers: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, source: str, *, on_load: Callable[[str], None] | None = None) -> Any:
        with self._guard:
            if source in self._tokenizers:
                return self._tokenizers[source]
            lock = self._locks.setdefault(source, threading.Lock())
        with lock:
            if source not in self._tokenizers:
                if on_load is not None:
                    on_load(f"Loading the tokenizer of {short_name(source)}…")
                loaded = load_tokenizer(source)  # a failed load is not cached: a later request retries
                with self._guard:
                    self._tokenizers[source] = loaded
        return self._tokenizers[source]


TOKENIZERS = TokenizerCache()


def load_tokenizer(source: str) -> Any:
    """`AutoTokenizer` for `source` (a Hub id, a local folder or a `.gguf` file), as services.models loads it."""
    from services.models import LOADING

    with LOADING:  # one load at a time in the process, imports included (services.models)
        return _load_tokenizer(source)


def _load_tokenizer(source: str) -> Any:
    import transformers

    from services.models import _explain, _location

    location, extra = _location(source)
    hub = None if is_local(source) else hub_state()
    if hub == "unreachable":  # the cache only, as for models
        extra["local_files_only"] = True
    logger.info("Loading the tokenizer of %s", source)
    try:
        return transformers.AutoTokenizer.from_pretrained(location, **extra)
    except Exception as error:  # every loader failure becomes one clear message
        if hub in ("offline mode", "unreachable") and not_cached(error):
            logger.warning("Could not load the tokenizer of %s: it is not cached and the Hub is %s", source, hub)
        else:
            logger.exception("Could not load the tokenizer of %s", source)
        raise ModelLoadError(_explain(source, error, hub=hub, what="the tokenizer of")) from error
