"""The model cache: lazy, loaded once under concurrency, clear failures, and retries."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services import hub, models
from services.config import short_name
from services.errors import ModelLoadError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # a fresh interpreter
def test_importing_the_app_loads_no_weights():
    # A fresh interpreter in which any from_pretrained call fails loudly.
    probe = (
        "import transformers\n"
        "def refuse(*args, **kwargs): raise SystemExit('from_pretrained called at import')\n"
        "transformers.AutoModel.from_pretrained = transformers.AutoTokenizer.from_pretrained = refuse\n"
        "transformers.PreTrainedModel.from_pretrained = refuse\n"
        "import app\n"
        "from services.models import MODELS\n"
        "assert MODELS.loaded() == [], MODELS.loaded()\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow  # a fresh interpreter
def test_importing_the_app_leaves_torch_and_transformers_for_the_first_request():
    """Lazy imports: the server can answer before torch and transformers (about 2 s) are loaded."""
    probe = "import sys, app\nassert not {'torch', 'transformers'} & set(sys.modules), 'imported at startup'\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_model_loads_once_even_when_ten_requests_ask_at_once(monkeypatch, tiny_models):
    calls = []
    real_load = models.load_model

    def slow_load(kind, source, **options):
        calls.append(source)
        time.sleep(0.2)  # widen the window in which requests overlap
        return real_load(kind, source, **options)

    monkeypatch.setattr(models, "load_model", slow_load)
    cache = models.ModelCache()
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("encoder", str(tiny_models["attention"]))))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [str(tiny_models["attention"])]
    assert len(results) == 10 and all(result is results[0] for result in results)


def test_loads_of_different_models_take_turns(monkeypatch, tiny_models):
    """Each model has its own lock (ten requests for one load it once); loads of different models still
    never overlap: transformers' loading is not thread-safe."""
    running, overlaps = [0], []
    real_load = models._load_model

    def watched(*args, **kwargs):
        running[0] += 1
        overlaps.append(running[0])
        time.sleep(0.1)
        try:
            return real_load(*args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(models, "_load_model", watched)
    cache = models.ModelCache()
    kinds = {"attention": "encoder", "sentiment": "sequence-classification", "generation": "causal-lm"}
    threads = [threading.Thread(target=cache.get, args=(kind, str(tiny_models[name]))) for name, kind in kinds.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache.loaded()) == 3 and max(overlaps) == 1


@pytest.mark.slow  # a fresh interpreter, where transformers is first imported by the concurrent loads
def test_five_tabs_first_loads_at_once_all_succeed(tiny_models):
    """In a fresh process, four of five concurrent first loads failed with "module 'transformers' has no
    attribute 'AutoTokenizer'" before loads took turns."""
    jobs = {
        "sentiment": "sequence-classification",
        "zero_shot": "sequence-classification",
        "generation": "causal-lm",
        "translation_fr": "seq2seq-lm",
        "fill_mask": "masked-lm",
    }
    jobs = [(kind, str(tiny_models[name])) for name, kind in jobs.items()]
    probe = (
        "import sys, threading\n"
        "from services.models import MODELS\n"
        f"jobs = {jobs!r}\n"
        "errors = []\n"
        "def load(kind, source):\n"
        "    try:\n"
        "        MODELS.get(kind, source)\n"
        "    except Exception as error:\n"
        "        errors.append(repr(error))\n"
        "threads = [threading.Thread(target=load, args=job) for job in jobs]\n"
        "[thread.start() for thread in threads]\n"
        "[thread.join() for thread in threads]\n"
        "assert not errors, errors\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_loaded_models_use_eager_attention_in_eval_mode(tiny_models):
    loaded = models.ModelCache().get("sequence-classification", str(tiny_models["sentiment"]))
    assert loaded.model.config._attn_implementation == "eager"
    assert not loaded.model.training
    assert loaded.device.type == models.device().type


def test_a_missing_model_says_what_to_do(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(
        ModelLoadError, match=f"Could not load the model '{short_name(str(missing))}'.*README's 'Offline'"
    ):
        models.ModelCache().get("encoder", str(missing))


def test_a_hub_model_that_is_not_cached_offline_says_so():
    import huggingface_hub.constants

    assert huggingface_hub.constants.HF_HUB_OFFLINE, "conftest sets HF_HUB_OFFLINE before the Hub client loads"
    with pytest.raises(ModelLoadError, match=r"not-a-real-org/not-a-real-model.*offline"):
        models.ModelCache().get("encoder", "not-a-real-org/not-a-real-model")


def test_a_corrupt_model_fails_clearly_then_loads_once_mended(tmp_path, tiny_models):
    folder = tmp_path / "model"
    shutil.copytree(tiny_models["attention"], folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(b"not a safetensors file")
    cache = models.ModelCache()
    with pytest.raises(ModelLoadError, match="missing or corrupt"):
        cache.get("encoder", str(folder))
    assert cache.loaded() == []  # a failure is not cached...
    shutil.copy(tiny_models["attention"] / "model.safetensors", weights)
    assert cache.get("encoder", str(folder)).model is not None  # ...so the next request retries


def test_first_load_reports_what_loads_and_its_size(tiny_models):
    messages = []
    cache = models.ModelCache()
    cache.get("encoder", str(tiny_models["attention"]), on_load=messages.append)
    cache.get("encoder", str(tiny_models["attention"]), on_load=messages.append)
    assert len(messages) == 1
    assert messages[0].startswith("Loading attention (")  # the folder's name, not the server's path
    assert "KB" in messages[0] or "MB" in messages[0]


def test_gguf_generation_model_loads_with_gguf_file(smollm2_gguf_path):
    loaded = models.MODELS.get("causal-lm", str(smollm2_gguf_path))  # shared: the generation tests reuse it
    assert loaded.model.config.model_type == "llama"
    assert loaded.model.config._attn_implementation == "eager"
    assert hub.describe_size(str(smollm2_gguf_path)).endswith("MB")


def test_running_out_of_memory_while_loading_says_so(monkeypatch, tiny_models):
    class TooBig:
        @staticmethod
        def from_pretrained(*args, **kwargs):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    import transformers

    monkeypatch.setattr(transformers, models.MODEL_CLASSES["encoder"], TooBig)
    with pytest.raises(ModelLoadError, match="not enough memory"):
        models.ModelCache().get("encoder", str(tiny_models["attention"]))


def test_loading_never_trusts_remote_code(monkeypatch, tiny_models):
    """A checkpoint's own Python never runs here: trust_remote_code is not passed, so it stays False."""
    import transformers

    seen = []
    for name in ("AutoTokenizer", models.MODEL_CLASSES["encoder"]):
        real = getattr(transformers, name).from_pretrained

        def spy(*args, _real=real, **kwargs):
            seen.append(kwargs)
            return _real(*args, **kwargs)

        monkeypatch.setattr(getattr(transformers, name), "from_pretrained", spy)
    models.ModelCache().get("encoder", str(tiny_models["attention"]))
    assert len(seen) == 2 and not any(kwargs.get("trust_remote_code") for kwargs in seen)
