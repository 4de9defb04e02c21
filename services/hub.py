"""Talking to the Hugging Face Hub: whether it can be reached, and how big a model is.

Without a network, huggingface_hub retries each request for about 23 s before it gives up. So a
quick probe, remembered for a minute, says first whether the Hub answers at all: a load then reads
the cache only, the size of a model that is not cached is left unknown, and the download script
stops at once with one plain sentence.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Literal

from services.config import is_local

logger = logging.getLogger(__name__)

HubState = Literal["offline mode", "unreachable", "reachable"]

HUB_PROBE_SECONDS = 2.0  # a Hub that does not answer a HEAD in this long is taken as out of reach
HUB_MEMORY_SECONDS = 60.0  # so an offline classroom probes once a minute, not on every load
_hub_answers: dict[str, tuple[float, bool]] = {}  # endpoint -> (when probed, reachable)
_hub_guard = threading.Lock()

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


def hub_state() -> HubState:
    """Whether models can come from the Hub: huggingface_hub's offline mode first, then a probe."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return "offline mode"
    return "reachable" if hub_reachable() else "unreachable"


def hub_reachable(*, fresh: bool = False) -> bool:
    """Whether `HF_ENDPOINT` answers at all, remembered for HUB_MEMORY_SECONDS unless `fresh`."""
    from huggingface_hub import constants

    endpoint = constants.ENDPOINT
    with _hub_guard:  # concurrent first loads wait for one probe
        when, reachable = _hub_answers.get(endpoint, (-HUB_MEMORY_SECONDS, False))
        if fresh or time.monotonic() - when >= HUB_MEMORY_SECONDS:
            reachable = _answers(endpoint, timeout=HUB_PROBE_SECONDS)
            _hub_answers[endpoint] = (time.monotonic(), reachable)
    return reachable


def _answers(url: str, *, timeout: float) -> bool:
    """One HEAD through huggingface_hub's own session (its proxies and headers), bounded in time.

    The request runs in a thread so that a hanging name lookup, which no socket timeout covers,
    cannot hold the caller longer than `timeout` either. Any answer below 500 means reachable.
    """
    from huggingface_hub import get_session

    answer: list[bool] = []

    def probe() -> None:
        try:
            answer.append(get_session().head(url, timeout=timeout).status_code < 500)
        except Exception as error:  # no route, refused, no name, timed out: all mean out of reach
            logger.debug("The Hub at %s is out of reach (%s: %s)", url, type(error).__name__, error)

    thread = threading.Thread(target=probe, name="hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


def not_cached(error: BaseException) -> bool:
    """Whether a load failed because files were neither cached nor allowed to be fetched."""
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, LocalEntryNotFoundError | OfflineModeIsEnabled):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_size(source: str) -> str:
    """A human size of the model's weights: from local files, the Hub cache, or the Hub."""
    path = Path(source).expanduser()
    if path.is_file():
        return human_size(path.stat().st_size)
    try:
        if not path.is_dir():
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(source, local_files_only=True))
        return human_size(sum(p.stat().st_size for p in path.rglob("*") if p.name.endswith(WEIGHT_SUFFIXES)))
    except Exception:  # not cached: ask the Hub below, if it can answer
        pass
    if is_local(source) or hub_state() != "reachable":
        return "size unknown"
    try:
        from huggingface_hub import HfApi

        info = HfApi().model_info(source, files_metadata=True, timeout=5)
        sizes = [f.size or 0 for f in info.siblings or [] if f.rfilename.endswith(".safetensors")]
        return human_size(sum(sizes)) if sizes else "size unknown"
    except Exception:  # offline, unknown repo, or rate-limited: the size is only a courtesy
        return "size unknown"


def human_size(num_bytes: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if num_bytes < 1000:
            return f"{num_bytes:.0f} {unit}"
        num_bytes /= 1000
    return f"{num_bytes:.1f} GB"
