"""Download every configured Hub model once, so the app can run with no network.

    python -m services.download          # while online: fills the Hugging Face cache
    HF_HUB_OFFLINE=1 python app.py       # in class: loads from the cache only

It fetches config, tokenizer and one copy of the weights (safetensors when the repo has them),
honouring the same PLAYGROUND_* variables as the app. Local folders and .gguf files are skipped.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from huggingface_hub import HfApi, snapshot_download

from services.config import Settings, is_local

logger = logging.getLogger(__name__)

CONFIG_PATTERNS = ["*.json", "*.txt", "*.model", "*.spm"]


def hub_models(settings: Settings) -> list[str]:
    """The configured models that are Hub ids, each once."""
    return [source for source in dict.fromkeys(settings.all_models()) if not is_local(source)]


def allow_patterns(repo_files: Sequence[str]) -> list[str]:
    """Config and tokenizer files, plus one format of top-level weights: safetensors if present."""
    if any(name.startswith("model") and name.endswith(".safetensors") for name in repo_files):
        return [*CONFIG_PATTERNS, "model*.safetensors"]
    return [*CONFIG_PATTERNS, "pytorch_model*.bin"]


def download(settings: Settings) -> dict[str, str]:
    """Fetch every Hub model of `settings` into the cache; returns id -> local folder."""
    api = HfApi()
    folders = {}
    for repo in hub_models(settings):
        logger.info("Downloading %s", repo)
        folders[repo] = snapshot_download(repo, allow_patterns=allow_patterns(api.list_repo_files(repo)))
    return folders


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for repo, folder in download(Settings.from_env()).items():
        logger.info("%s -> %s", repo, folder)
    logger.info("Done. Start the app with HF_HUB_OFFLINE=1 python app.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
