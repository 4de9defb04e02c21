"""Download every configured Hub model once, so the app can run with no network.

    python -m services.download          # while online: fills the Hugging Face cache
    HF_HUB_OFFLINE=1 python app.py       # in class: loads from the cache only

It fetches config, tokenizer and one copy of the weights (safetensors when the repo has them),
honouring the same PLAYGROUND_* variables as the app. Local folders and .gguf files are skipped.
It first says what it will fetch and how big that is; with no network it says so and stops.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import disable_progress_bars

from services.config import Settings, is_local
from services.hub import hub_reachable, hub_state, human_size
from services.logs import configure_logging

logger = logging.getLogger("services.download")  # by name: run with -m, __name__ is "__main__"

CONFIG_PATTERNS = ["*.json", "*.txt", "*.model", "*.spm"]

NO_NETWORK = f"No network: the Hugging Face Hub ({constants.ENDPOINT}) cannot be reached; connect and run this again."
OFFLINE_MODE = "HF_HUB_OFFLINE is set, so nothing can be downloaded: unset it and run this again while online."


@dataclass(frozen=True)
class Fetch:
    """One model to download: the files to ask for, and the bytes of those not yet in the cache."""

    repo: str
    patterns: list[str]
    new_files: int
    new_bytes: int


def hub_models(settings: Settings) -> list[str]:
    """The configured models that are Hub ids, each once."""
    return [source for source in dict.fromkeys(settings.all_models()) if not is_local(source)]


def allow_patterns(repo_files: Sequence[str]) -> list[str]:
    """Config and tokenizer files, plus one format of top-level weights: safetensors if present."""
    if any(name.startswith("model") and name.endswith(".safetensors") for name in repo_files):
        return [*CONFIG_PATTERNS, "model*.safetensors"]
    return [*CONFIG_PATTERNS, "pytorch_model*.bin"]


def plan(settings: Settings) -> list[Fetch]:
    """What each Hub model of `settings` needs, from snapshot_download's own dry run (the Hub's file sizes)."""
    api = HfApi()
    fetches = []
    for repo in hub_models(settings):
        patterns = allow_patterns(api.list_repo_files(repo))
        with disable_progress_bars():  # a dry run's bars would only show zero bytes fetched
            files = snapshot_download(repo, allow_patterns=patterns, dry_run=True)
        new = [file for file in files if file.will_download]
        fetches.append(Fetch(repo, patterns, len(new), sum(file.file_size or 0 for file in new)))
    return fetches


def download(fetches: Sequence[Fetch]) -> dict[str, str]:
    """Fetch each planned model into the cache, with huggingface_hub's progress bars; returns id -> folder."""
    folders = {}
    for fetch in fetches:
        if fetch.new_files:
            logger.info("Downloading %s (%s)", fetch.repo, human_size(fetch.new_bytes))
        cached = not fetch.new_files  # then the cache answers, with no request and no empty bars
        folders[fetch.repo] = snapshot_download(fetch.repo, allow_patterns=fetch.patterns, local_files_only=cached)
    return folders


def main() -> int:
    configure_logging(line_format="%(message)s")
    hub = hub_state()
    if hub != "reachable":
        logger.error(OFFLINE_MODE if hub == "offline mode" else NO_NETWORK)
        return 1
    try:
        fetches = plan(Settings.from_env())
        _describe(fetches)
        folders = download(fetches)
    except HfHubHTTPError as error:  # a repo that is missing, gated, or a Hub error: the Hub says which
        logger.error("The Hub refused a download: %s", str(error).strip())
        return 1
    except Exception:
        if hub_reachable(fresh=True):
            raise  # not the network: a real fault, whose traceback is worth seeing
        logger.error("%s Files already fetched are kept.", NO_NETWORK)
        return 1
    for repo, folder in folders.items():
        logger.info("%s -> %s", repo, folder)
    logger.info("Done. Start the app with HF_HUB_OFFLINE=1 python app.py")
    return 0


def _describe(fetches: Sequence[Fetch]) -> None:
    """Say what will be fetched, and how big it is, before anything is."""
    for fetch in fetches:
        size = f"{fetch.new_files} files, {human_size(fetch.new_bytes)}" if fetch.new_files else "already cached"
        logger.info("  %s: %s", fetch.repo, size)
    if any(fetch.new_files for fetch in fetches):
        total = sum(fetch.new_bytes for fetch in fetches)
        logger.info("To download: %s into %s", human_size(total), constants.HF_HUB_CACHE)
    else:
        logger.info("Nothing to download: every model is in %s", constants.HF_HUB_CACHE)


if __name__ == "__main__":
    sys.exit(main())
