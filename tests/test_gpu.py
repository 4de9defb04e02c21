"""Ready for ZeroGPU: every model run goes through `spaces.GPU`, which is a no-op here, so the run computes on
the CPU and its numbers are transformers' own; its arguments and results are plain values that cross a process
boundary (ZeroGPU runs them in a forked worker); and each asks for GPU seconds that fit its task."""

from __future__ import annotations

import importlib
import pickle

import numpy as np
import pytest
import spaces
import torch
from transformers import pipeline

from services import fill_mask, generation, gpu, models, precision, sentiment, translation
from services.config import GPU_PASS_SECONDS, GPU_SPARE_SECONDS, Limits
from services.inputs import GenerationOptions
from services.mask_inputs import fill_mask_query
from services.recipe import NONE, Recipe
from services.run_guard import GRACE_SECONDS
from tests.app_server import TINY_TRANSLATION_TOKENS

TEXTS = ("I'm so hungry man.", "I love food so much.")
EVERY_RUN = {
    "services.sentiment.compute",
    "services.fill_mask.compute",
    "services.zero_shot.compute",
    "services.attention.compute",
    "services.generation.compute",
    "services.translation.compute",
    "services.lenses.ablation.compare",
    "services.lenses.attribution.attribute",
    "services.lenses.importance.head_importance",
    "services.lenses.logit_lens.logit_lens",
}


def test_spaces_gpu_is_a_no_op_off_spaces():
    """Off a ZeroGPU Space, `spaces.GPU` hands back each run as written: the module calls the function itself."""
    assert not gpu.on_zero_gpu()
    gpu.prepare()  # imports nothing here; the run modules are imported below, as a first request would
    for module in gpu.RUN_MODULES:
        importlib.import_module(module)
    assert set(gpu.RUNS) == EVERY_RUN
    for name, run in gpu.RUNS.items():
        module, function = name.rsplit(".", 1)
        assert run.decorated is run.fn, name
        assert getattr(importlib.import_module(module), function) is run.fn, name
    assert spaces.GPU(duration=5)(len) is len


def test_the_decorated_run_is_what_computes_on_the_cpu(monkeypatch, tiny_models):
    """`classify` goes through the decorated run, which computes on the CPU the pipeline's own scores."""
    source = str(tiny_models["sentiment"])
    calls = []
    decorated = sentiment.compute

    def spy(*args, **kwargs):
        calls.append(args)
        return decorated(*args, **kwargs)

    monkeypatch.setattr(sentiment, "compute", spy)
    predictions = sentiment.classify(list(TEXTS), model=source)
    assert calls == [(TEXTS,)]
    loaded = models.MODELS.get("sequence-classification", source)
    assert loaded.device == torch.device("cpu")
    expected = pipeline("text-classification", model=source, top_k=None)(list(TEXTS))
    for prediction, scores in zip(predictions, expected, strict=True):
        for item in scores:
            assert prediction.probabilities[item["label"]] == pytest.approx(item["score"], abs=1e-6)


def _round_trip(value):
    """What a ZeroGPU worker's pipe does to a run's arguments and result."""
    return pickle.loads(pickle.dumps(value))


def test_a_runs_arguments_and_results_cross_a_process_boundary(tiny_models):
    """On ZeroGPU a run's arguments and result are pickled between the server and the GPU worker."""
    source = str(tiny_models["sentiment"])
    options = {"model": source, "precision": "fp32", "max_tokens": 512, "max_attention_bytes": None, "knock_out": NONE}
    texts, kwargs = _round_trip((TEXTS, options))
    predictions = sentiment.compute(texts, **kwargs)
    for sent, received in zip(predictions, _round_trip(predictions), strict=True):
        assert (received.label, received.score) == (sent.label, sent.score)
        np.testing.assert_array_equal(received.attention.weights, sent.attention.weights)
        assert received.attention.recipe == sent.attention.recipe

    french = str(tiny_models["translation_fr"])
    result = translation.translate(
        "You like this house", "French", models={"French": french}, max_new_tokens=TINY_TRANSLATION_TOKENS
    )
    received = _round_trip(result)
    assert received.translation_text == result.translation_text
    np.testing.assert_array_equal(received.cross_attention.weights, result.cross_attention.weights)

    query = _round_trip(
        fill_mask_query("This man works as a [MASK].", "This woman works as a [MASK].", 5, max_chars=200, max_top_k=20)
    )
    filled = fill_mask.compute(query, model=str(tiny_models["fill_mask"]), precision="fp32", max_tokens=512)
    received = _round_trip(filled)
    assert received.as_pipeline_output() == filled.as_pipeline_output()
    np.testing.assert_array_equal(received.predictions[1].attention.weights, filled.predictions[1].attention.weights)

    options = GenerationOptions(max_new_tokens=4)
    updates = list(generation.stream("So today", _round_trip(options), model=str(tiny_models["generation"])))
    received = [_round_trip(update) for update in updates]
    assert [update.texts for update in received] == [update.texts for update in updates]
    np.testing.assert_array_equal(
        received[-1].sequences[0].attention.weights, updates[-1].sequences[0].attention.weights
    )


def test_each_run_asks_for_gpu_seconds_that_fit_its_task():
    """A forward pass asks for little; decoding for the Space's time limit; a lens for its own budget."""
    for module in gpu.RUN_MODULES:
        importlib.import_module(module)
    seconds = {name: run.seconds for name, run in gpu.RUNS.items()}
    spare = GPU_SPARE_SECONDS
    assert seconds["services.sentiment.compute"](TEXTS, model="m") == GPU_PASS_SECONDS + spare
    assert seconds["services.generation.compute"]("p", None, max_seconds=10.0) == 10 + GRACE_SECONDS + spare
    assert seconds["services.lenses.attribution.attribute"](None, max_seconds=60.0, max_bytes=1) == 60 + spare
    try:
        gpu.configure(Limits(max_run_seconds=4.0))
        assert seconds["services.translation.compute"]("text", "French", model="m") == 4 + GRACE_SECONDS + spare
    finally:
        gpu.configure(Limits())
    classifier = Recipe(
        task="sentiment", model="m", kind="sequence-classification", precision="fp32", ids=((1,),), answer=0
    )
    writer = Recipe(task="translation", model="m", kind="seq2seq-lm", precision="fp32", ids=((1,),), answer=0)
    compare = seconds["services.lenses.ablation.compare"]
    assert compare(classifier, None) == GPU_PASS_SECONDS + spare
    assert compare(writer, None) == Limits().max_run_seconds + GRACE_SECONDS + spare


def test_models_load_on_the_device_one_place_picks(monkeypatch, tiny_models):
    """`services.models.device` is the one place that picks CUDA or the CPU; every load goes there."""
    assert models.device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(models, "device", lambda: torch.device("meta"))
    loaded = models.load_model("sequence-classification", str(tiny_models["sentiment"]))
    assert loaded.device == torch.device("meta")


def test_fast_mode_on_a_gpu_is_half_precision(monkeypatch):
    """On a GPU int8 has no kernels: every fast precision is half precision, bf16 where the GPU has it."""
    monkeypatch.setattr(precision, "device", lambda: torch.device("cuda"))
    assert [precision.resolve(name) for name in ("auto", "int8", "bf16", "fp32")] == ["bf16", "bf16", "bf16", "fp32"]
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert precision.gpu_half() == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert precision.gpu_half() == torch.bfloat16
