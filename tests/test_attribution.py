"""Attribution against captum run directly, Integrated Gradients' completeness, and hand-written gradient × input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerIntegratedGradients
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification

from services import generation, sentiment, translation, zero_shot
from services.errors import InputError
from services.inputs import GenerationOptions
from services.lenses import attribution
from tests.app_server import TINY_TRANSLATION_TOKENS
from tests.helpers import load_direct
from tests.lens_reference import embedding_leaves, plain_eager

BUDGET = {"max_seconds": 600.0, "max_bytes": 10**9}
TEXT = "I love food so much."


def completeness(result, f_input: float, f_baseline: float) -> None:
    """The scores sum to f(input) − f(baseline), within the delta captum reports (and that delta is small)."""
    total = float(result.scores.sum())
    assert abs(total - (f_input - f_baseline)) <= abs(result.delta) + 1e-5
    assert abs(result.delta) <= 0.05 * abs(f_input - f_baseline) + 1e-4


def logit(model, ids, target: int, **extra) -> float:
    with torch.no_grad(), plain_eager():
        return float(model(input_ids=ids, **extra).logits[0, target])


def baseline_of(tokenizer, ids: torch.Tensor) -> torch.Tensor:
    """Every non-special token replaced by the pad token, written out again here."""
    special = set(tokenizer.all_special_ids)
    return torch.tensor([[i if i in special else tokenizer.pad_token_id for i in ids[0].tolist()]])


def test_integrated_gradients_equal_captum_run_directly_and_are_complete(tiny_models):
    source = str(tiny_models["sentiment"])
    [prediction] = sentiment.classify([TEXT], model=source)
    result = attribution.attribute(prediction.attention.recipe, **BUDGET)
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    target = model.config.label2id[prediction.label]
    with plain_eager():
        ig = LayerIntegratedGradients(lambda x: model(input_ids=x).logits, model.get_input_embeddings())
        expected, delta = ig.attribute(
            ids, baselines=baseline_of(tokenizer, ids), target=target, n_steps=32, return_convergence_delta=True
        )
    np.testing.assert_allclose(result.scores[0], expected.sum(-1)[0].detach().numpy(), atol=1e-6)
    assert result.delta == pytest.approx(float(delta), abs=1e-6)
    assert result.target == prediction.label and result.axis.tokens == prediction.attention.query.tokens
    completeness(result, logit(model, ids, target), logit(model, baseline_of(tokenizer, ids), target))
    assert result.scores[0, 0] == 0.0 and result.scores[0, -1] == 0.0  # [CLS] and [SEP] are the baseline too


def test_zero_shot_attribution_is_complete_over_encoder_and_decoder(tiny_models):
    """BART reads the pair twice (encoder, and decoder shifted right): both count, and they sum to the change."""
    source = str(tiny_models["zero_shot"])
    result_zs = zero_shot.classify("History isn't really a fun class", ["education", "politics"], model=source)
    result = attribution.attribute(result_zs.attention.recipe, **BUDGET)
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    ids = tokenizer("History isn't really a fun class", f"This example is {result_zs.labels[0]}.", return_tensors="pt")
    ids = ids["input_ids"]
    assert list(result.axis.ids) == ids[0].tolist()
    entailment = model.config.label2id["entailment"]
    assert result.target == result_zs.labels[0]
    completeness(result, logit(model, ids, entailment), logit(model, baseline_of(tokenizer, ids), entailment))


def test_real_minilm_integrated_gradients_are_complete(minilm_path):
    """all-MiniLM-L6-v2 as a classifier: real weights below a random two-class head."""
    [prediction] = sentiment.classify([TEXT], model=str(minilm_path))
    result = attribution.attribute(prediction.attention.recipe, **BUDGET)
    from services.models import MODELS

    loaded = MODELS.get("sequence-classification", str(minilm_path))
    ids = torch.tensor([prediction.attention.query.ids])
    target = prediction.attention.recipe.answer
    f_input = logit(loaded.model, ids, target)
    completeness(result, f_input, logit(loaded.model, baseline_of(loaded.tokenizer, ids), target))


def gradient_x_input_by_hand(model, modules, inputs: dict, steps: list[tuple[int, int]]) -> np.ndarray:
    """[steps, tokens]: for each (position, token), d logit / d embedding · embedding, summed over hidden,
    one backward pass each, the embedding modules' outputs side by side."""
    with embedding_leaves(modules) as leaves:
        logits = model(**inputs).logits[0]
    rows = []
    for position, token in steps:
        grads = torch.autograd.grad(logits[position, token], leaves, retain_graph=True)
        rows.append(torch.cat([(g * leaf).sum(-1)[0] for g, leaf in zip(grads, leaves, strict=True)]))
    return torch.stack(rows).detach().numpy()


def test_generation_gradient_x_input_equals_one_backward_pass_per_token(tiny_models):
    source = str(tiny_models["generation"])
    [sequence] = generation.generate(TEXT, GenerationOptions(max_new_tokens=5), model=source).sequences
    recipe = sequence.attention.recipe
    result = attribution.attribute(recipe, **BUDGET)
    _, model = load_direct(AutoModelForCausalLM, source)
    ids, prompt = list(recipe.ids[0]), recipe.answer
    steps = [(position, ids[position + 1]) for position in range(prompt - 1, len(ids) - 1)]
    expected = gradient_x_input_by_hand(
        model, [model.get_input_embeddings()], {"input_ids": torch.tensor([ids])}, steps
    )
    np.testing.assert_allclose(result.scores, expected[:, :-1], atol=1e-5)
    assert result.scores.shape == (5, len(ids) - 1)
    assert np.all(np.triu(result.scores[:, prompt:], k=0) == 0.0)  # a token never reads what comes after it
    assert result.targets == sequence.attention.query.tokens[prompt:]


def test_translation_gradient_x_input_covers_source_and_earlier_target(tiny_models):
    source = str(tiny_models["translation_fr"])
    result_t = translation.translate(
        "You like this house", "French", models={"French": source}, max_new_tokens=TINY_TRANSLATION_TOKENS
    )
    recipe = result_t.cross_attention.recipe
    result = attribution.attribute(recipe, **BUDGET)
    _, model = load_direct(AutoModelForSeq2SeqLM, source)
    target = list(recipe.target_ids)
    inputs = {"input_ids": torch.tensor([recipe.ids[0]]), "decoder_input_ids": torch.tensor([target[:-1]])}
    modules = [model.get_encoder().embed_tokens, model.get_decoder().embed_tokens]
    expected = gradient_x_input_by_hand(model, modules, inputs, [(t, target[t + 1]) for t in range(len(target) - 1)])
    np.testing.assert_allclose(result.scores, expected, atol=1e-5)
    source_len = len(recipe.ids[0])
    assert result.axis.tokens[:source_len] == result_t.encoder_attention.query.tokens
    assert np.all(np.triu(result.scores[:, source_len + 1 :], k=0) == 0.0)


def test_real_smollm2_gradient_x_input(smollm2_gguf_path):
    [sequence] = generation.generate(
        "The capital of France is", GenerationOptions(max_new_tokens=3), model=str(smollm2_gguf_path)
    ).sequences
    recipe = sequence.attention.recipe
    result = attribution.attribute(recipe, **BUDGET)
    from services.models import MODELS

    model = MODELS.get("causal-lm", str(smollm2_gguf_path)).model
    ids, prompt = list(recipe.ids[0]), recipe.answer
    steps = [(position, ids[position + 1]) for position in range(prompt - 1, len(ids) - 1)]
    expected = gradient_x_input_by_hand(
        model, [model.get_input_embeddings()], {"input_ids": torch.tensor([ids])}, steps
    )
    np.testing.assert_allclose(result.scores, expected[:, :-1], atol=1e-3, rtol=1e-3)


def test_attribution_declines_int8_and_work_over_budget(tiny_models):
    source = str(tiny_models["sentiment"])
    [int8] = sentiment.classify([TEXT], model=source, precision="int8")
    with pytest.raises(InputError, match="int8 weights have none: turn fast mode off"):
        attribution.attribute(int8.attention.recipe, **BUDGET)
    [plain] = sentiment.classify([TEXT], model=source)
    with pytest.raises(InputError, match=r"Integrated Gradients \(32 steps\) would take about .* this Space allows"):
        attribution.attribute(plain.attention.recipe, max_seconds=1e-6, max_bytes=10**9)
