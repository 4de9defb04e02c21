"""The levers that keep the app fast on a small CPU: fast mode, the memory budget, thread settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services import attention, sentiment
from services.config import ConfigError, Settings
from services.models import MODELS, ModelCache, configure_threads, load_model
from services.precision import weight_bytes


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_fast_mode_keeps_real_attention_close_to_fp32(minilm_path, precision):
    text = "The animal didn't cross the street because it was too tired"
    exact = attention.attend(text, model=str(minilm_path)).attention
    fast = attention.attend(text, model=str(minilm_path), precision=precision).attention
    assert MODELS.get("encoder", str(minilm_path), precision=precision).precision == precision
    assert fast.weights.dtype == np.float32 and fast.weights.shape == exact.weights.shape
    np.testing.assert_allclose(fast.weights.sum(axis=-1), 1.0, atol=1e-2)  # rows are still distributions
    # bf16 keeps the picture; int8 moves single weights more, yet the token each row attends most is kept.
    assert np.abs(fast.weights - exact.weights).mean() < {"bf16": 0.002, "int8": 0.03}[precision]
    assert (fast.weights.mean(axis=1).argmax(-1) == exact.weights.mean(axis=1).argmax(-1)).mean() >= 0.95
    assert fast.facts.parameters == exact.facts.parameters  # packed int8 weights still count


def test_fast_mode_sentiment_keeps_the_pipeline_shape(tiny_models):
    [exact] = sentiment.classify(["I love food so much."], model=str(tiny_models["sentiment"]))
    [fast] = sentiment.classify(["I love food so much."], model=str(tiny_models["sentiment"]), precision="int8")
    assert set(fast.probabilities) == set(exact.probabilities)
    assert sum(fast.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_the_memory_budget_unloads_the_least_recently_used_model(tiny_models):
    sizes = {
        name: weight_bytes(load_model("sequence-classification", str(tiny_models[name])).model)
        for name in ("sentiment", "zero_shot")
    }
    cache = ModelCache(budget_bytes=sizes["sentiment"] + sizes["zero_shot"] + 1)
    first = cache.get("sequence-classification", str(tiny_models["sentiment"]))
    cache.get("sequence-classification", str(tiny_models["zero_shot"]))
    cache.get("sequence-classification", str(tiny_models["sentiment"]))  # now the most recently used
    cache.get("encoder", str(tiny_models["attention"]))
    kept = [key[1] for key in cache.loaded()]
    assert kept == [str(tiny_models["sentiment"]), str(tiny_models["attention"])]
    assert cache.get("sequence-classification", str(tiny_models["sentiment"])) is first


def test_a_model_over_the_budget_on_its_own_is_still_served(tiny_models):
    cache = ModelCache(budget_bytes=1)
    loaded = cache.get("sequence-classification", str(tiny_models["sentiment"]))
    assert cache.loaded() == [("sequence-classification", str(tiny_models["sentiment"]), "fp32")]
    cache.get("encoder", str(tiny_models["attention"]))
    assert cache.get("sequence-classification", str(tiny_models["sentiment"])) is not loaded  # reloaded


def test_threads_times_workers_fit_the_cores():
    saved = torch.get_num_threads()
    try:
        cores = len(__import__("os").sched_getaffinity(0))
        assert configure_threads(1) == cores == torch.get_num_threads()
        assert configure_threads(cores * 2) == 1
    finally:
        torch.set_num_threads(saved)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PLAYGROUND_FAST": "fp8"}, "must be 0, 1, auto, int8 or bf16"),
        ({"PLAYGROUND_WORKERS": "0"}, "at least 1"),
        ({"PLAYGROUND_MEMORY_BUDGET_GB": "lots"}, "number of gigabytes"),
    ],
)
def test_bad_lever_settings_say_what_is_allowed(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_lever_settings_from_the_environment():
    settings = Settings.from_env(
        {"PLAYGROUND_FAST": "1", "PLAYGROUND_WORKERS": "2", "PLAYGROUND_MEMORY_BUDGET_GB": "6"}
    )
    assert (settings.fast_by_default, settings.fast_precision) == (True, "auto")
    assert Settings.from_env({"PLAYGROUND_FAST": "int8"}).fast_precision == "int8"
    assert settings.workers == 2 and settings.memory_budget_bytes == 6 * 10**9
    assert Settings.from_env({"PLAYGROUND_MEMORY_BUDGET_GB": "off"}).memory_budget_bytes is None
    assert Settings.from_env({}).fast_by_default is False
