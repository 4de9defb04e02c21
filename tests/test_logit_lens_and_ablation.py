"""The logit lens against `output_hidden_states=True`, and knock-outs and head importance against hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

from services import generation, sentiment, zero_shot
from services.errors import InputError
from services.inputs import GenerationOptions
from services.lenses import ablation, importance, logit_lens
from services.recipe import KnockOut
from tests.helpers import load_direct
from tests.lens_reference import plain_eager, zeroed

BUDGET = {"max_seconds": 600.0, "max_bytes": 10**9}
TEXT = "I love food so much."
PROMPT = "So today, I just feel like"


def check_logit_lens(recipe, model, tokenizer) -> None:
    """Every layer, by hand: hidden state at each step's query, final norm but for the last layer, LM head."""
    lens = logit_lens.logit_lens(recipe)
    ids, prompt = list(recipe.ids[0]), recipe.answer
    with torch.no_grad(), plain_eager():
        outputs = model(torch.tensor([ids]), output_hidden_states=True)
    hidden = outputs.hidden_states[1:]
    assert lens.layers == model.config.num_hidden_layers == len(hidden)
    for layer, states in enumerate(hidden):
        queries = states[0, prompt - 1 : len(ids) - 1]
        with torch.no_grad():
            if layer < len(hidden) - 1:
                queries = model.model.norm(queries)
            probabilities = torch.softmax(model.lm_head(queries), -1)
        np.testing.assert_allclose(lens.top_prob[layer], probabilities.max(-1).values.numpy(), atol=1e-4)
    # The last layer is the model's own next-token distribution, and under greedy decoding its top token is written.
    own = torch.softmax(outputs.logits[0, prompt - 1 : len(ids) - 1], -1)
    written = torch.tensor(ids[prompt:])
    np.testing.assert_allclose(lens.chosen_prob[-1], own.gather(-1, written[:, None])[:, 0].numpy(), atol=1e-4)
    assert lens.top[-1] == lens.tokens == tuple(tokenizer.convert_ids_to_tokens(ids[prompt:]))


def test_logit_lens_on_the_tiny_llama(tiny_models):
    source = str(tiny_models["generation"])
    [sequence] = generation.generate(PROMPT, GenerationOptions(max_new_tokens=6), model=source).sequences
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    check_logit_lens(sequence.attention.recipe, model, tokenizer)
    as_json = logit_lens.logit_lens(sequence.attention.recipe).as_json()
    assert as_json["layers"] == 2 and len(as_json["steps"]) == 6
    assert {"token", "per_layer"} == set(as_json["steps"][0]) and len(as_json["steps"][0]["per_layer"]) == 2


def test_logit_lens_on_real_smollm2(smollm2_gguf_path):
    [sequence] = generation.generate(
        "The capital of France is", GenerationOptions(max_new_tokens=4), model=str(smollm2_gguf_path)
    ).sequences
    from services.models import MODELS

    loaded = MODELS.get("causal-lm", str(smollm2_gguf_path))
    check_logit_lens(sequence.attention.recipe, loaded.model, loaded.tokenizer)


def probability_by_hand(model, inputs, target: int, heads=()) -> float:
    with torch.no_grad(), zeroed(model, heads):
        return float(torch.softmax(model(**inputs).logits[0], -1)[target])


def test_sentiment_knock_out_beside_the_original(tiny_models):
    source = str(tiny_models["sentiment"])
    [prediction] = sentiment.classify([TEXT], model=source)
    heads = ((1, 2), (2, 4))
    result = ablation.compare(prediction.attention.recipe, KnockOut(heads), run=prediction.attention)
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    inputs = dict(tokenizer(TEXT, return_tensors="pt"))
    target = model.config.label2id[prediction.label]
    assert result.original == prediction.label and result.before == pytest.approx(prediction.score, abs=1e-6)
    assert result.after == pytest.approx(probability_by_hand(model, inputs, target, heads), abs=1e-6)
    assert np.all(result.attention.weights[0, 1] == 0) and np.all(result.attention.weights[1, 3] == 0)
    assert result.as_json()["heads"] == ["1.2", "2.4"] and "knocked out" in result.attention.title


def test_zero_shot_knock_out_scores_every_label_again(tiny_models):
    source = str(tiny_models["zero_shot"])
    labels = ["education", "politics", "business"]
    plain = zero_shot.classify("History isn't really a fun class", labels, model=source)
    knocked = zero_shot.classify(
        "History isn't really a fun class", labels, model=source, knock_out=KnockOut(((1, 1),))
    )
    result = ablation.compare(plain.attention.recipe, KnockOut(((1, 1),)))
    assert result.original == plain.labels[0] and result.knocked_out == knocked.labels[0]
    after = dict(zip(knocked.labels, knocked.scores, strict=True))
    assert result.after == pytest.approx(after[plain.labels[0]], abs=1e-6)
    assert dict(zip(result.classes, result.after_each, strict=True)) == pytest.approx(after, abs=1e-6)


def test_generation_knock_out_writes_again_with_the_heads_out(tiny_models):
    source = str(tiny_models["generation"])
    options = GenerationOptions(max_new_tokens=6)
    [sequence] = generation.generate(PROMPT, options, model=source).sequences
    heads = KnockOut(((1, 1), (1, 2), (2, 3)))
    result = ablation.compare(sequence.attention.recipe, heads, run=sequence.attention)
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    prompt = tokenizer(PROMPT, return_tensors="pt")
    with torch.no_grad(), zeroed(model, heads.attention):
        again = model.generate(**prompt, max_new_tokens=6, do_sample=False)[0]
    assert result.knocked_out == tokenizer.decode(again[prompt["input_ids"].shape[-1] :], skip_special_tokens=True)
    assert result.attention.query.ids == tuple(again.tolist())
    assert np.all(result.attention.weights[1, 2] == 0)
    # The original text's mean token probability, teacher-forced, with every head and with the heads out.
    ids, start = torch.tensor([sequence.attention.recipe.ids[0]]), prompt["input_ids"].shape[-1]
    for heads_out, value in (((), result.before), (heads.attention, result.after)):
        with torch.no_grad(), zeroed(model, heads_out):
            probabilities = torch.softmax(model(ids).logits[0, start - 1 : -1], -1)
        expected = probabilities.gather(-1, ids[0, start:, None])[:, 0].mean()
        assert value == pytest.approx(float(expected), abs=1e-6)


def test_head_importance_is_each_head_alone_by_hand(tiny_models):
    source = str(tiny_models["sentiment"])
    [prediction] = sentiment.classify([TEXT], model=source)
    result = importance.head_importance(prediction.attention.recipe, **BUDGET)
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    inputs = dict(tokenizer(TEXT, return_tensors="pt"))
    target = model.config.label2id[prediction.label]
    base = probability_by_hand(model, inputs, target)
    expected = [
        [probability_by_hand(model, inputs, target, [(layer, head)]) - base for head in (1, 2, 3, 4)]
        for layer in (1, 2)
    ]
    np.testing.assert_allclose(result.change, expected, atol=1e-6)
    assert result.as_json()["layers"] == 2 and result.as_json()["heads"] == 4 and result.target == prediction.label


def test_head_importance_declines_past_its_budget(tiny_models):
    [prediction] = sentiment.classify([TEXT], model=str(tiny_models["sentiment"]))
    with pytest.raises(InputError, match=r"Knocking out each of the 8 heads alone, one pass each, would take about"):
        importance.head_importance(prediction.attention.recipe, max_seconds=1e-6, max_bytes=10**9)
