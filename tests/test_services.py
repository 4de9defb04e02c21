"""Each service's numbers equal transformers computed directly on the same model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    pipeline,
)

from services import attention, generation, inputs, sentiment, translation, zero_shot
from services.errors import InputError
from tests.helpers import chosen_matrix, forward, load_direct, stacked

ATOL = 1e-5
TEXTS = [
    "I'm so hungry man.",
    "I love food so much, she bought the apple from the local market.",
]


# Sentiment ------------------------------------------------------------------------------------


def test_sentiment_scores_equal_the_pipeline(tiny_models):
    source = str(tiny_models["sentiment"])
    predictions = sentiment.classify(TEXTS, model=source)
    every_class = pipeline("text-classification", model=source, top_k=None)(TEXTS)
    top = pipeline("text-classification", model=source)(TEXTS)
    for prediction, expected, best in zip(predictions, every_class, top, strict=True):
        for item in expected:
            assert prediction.probabilities[item["label"]] == pytest.approx(item["score"], abs=1e-6)
        assert prediction.label == best["label"]
        assert prediction.score == pytest.approx(best["score"], abs=1e-6)
        assert prediction.as_pipeline_output() == {
            "label": prediction.label,
            "score": prediction.score,
        }


def test_sentiment_attention_is_each_texts_own_run(tiny_models):
    source = tiny_models["sentiment"]
    predictions = sentiment.classify(TEXTS, model=str(source))
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    for prediction in predictions:
        inputs = tokenizer(prediction.text, return_tensors="pt")
        expected = stacked(forward(model, **inputs).attentions)
        np.testing.assert_allclose(prediction.attention.weights, expected, atol=ATOL)
        assert list(prediction.attention.query_tokens) == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])


def test_sentiment_truncates_text_longer_than_the_model_limit(tiny_models):
    source = str(tiny_models["sentiment"])
    [short, long] = sentiment.classify(["I love food.", "I love food so much. " * 100], model=source)
    assert not short.truncated and long.truncated
    tokenizer, _ = load_direct(AutoModelForSequenceClassification, source)
    assert len(long.attention.query_tokens) == tokenizer.model_max_length


# Zero-shot ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "multi_label"),
    [
        (["education", "politics", "business"], False),
        (["education", "politics", "business"], True),
        (["food"], False),
    ],
)
def test_zero_shot_scores_equal_the_pipeline(tiny_models, labels, multi_label):
    source = str(tiny_models["zero_shot"])
    text = "History isn't really a fun class"
    result = zero_shot.classify(text, labels, model=source, multi_label=multi_label)
    expected = pipeline("zero-shot-classification", model=source)(text, labels, multi_label=multi_label)
    assert result.as_pipeline_output()["labels"] == expected["labels"]
    np.testing.assert_allclose(result.scores, expected["scores"], atol=1e-6)
    assert result.as_pipeline_output()["sequence"] == text


def test_zero_shot_attention_is_the_winning_pair(tiny_models):
    source = tiny_models["zero_shot"]
    text = "History isn't really a fun class"
    result = zero_shot.classify(text, ["education", "politics", "business"], model=str(source))
    assert result.hypothesis == f"This example is {result.labels[0]}."
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    inputs = tokenizer(text, result.hypothesis, return_tensors="pt")
    expected = stacked(forward(model, **inputs).encoder_attentions)
    np.testing.assert_allclose(result.attention.weights, expected, atol=ATOL)
    assert list(result.attention.key_tokens) == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])


def test_zero_shot_label_and_template_checks():
    assert inputs.parse_labels(" education, politics ,education,, ", max_labels=5) == ["education", "politics"]
    with pytest.raises(InputError, match="at least one candidate label"):
        inputs.parse_labels(" , ", max_labels=5)
    with pytest.raises(InputError, match="at most 2"):
        inputs.parse_labels("a, b, c", max_labels=2)
    for bad in ("This example is about", "This is {label}.", "{}{}", "It is { broken"):
        with pytest.raises(InputError, match=r"needs one '\{\}' where the label goes"):
            inputs.check_template(bad)
    assert inputs.check_template("") == inputs.DEFAULT_TEMPLATE


def test_zero_shot_rejects_a_model_without_entailment(tiny_models):
    with pytest.raises(InputError, match="not an NLI model"):
        zero_shot.classify("text", ["a", "b"], model=str(tiny_models["sentiment"]))


# Generation -----------------------------------------------------------------------------------


def test_greedy_generation_equals_the_pipeline_and_generate(tiny_models):
    source = str(tiny_models["generation"])
    prompt = "So today, I just feel like"
    result = generation.generate(prompt, generation.GenerationOptions(max_new_tokens=8), model=source)
    expected = pipeline("text-generation", model=source)(prompt, max_new_tokens=8, do_sample=False)
    assert [{"generated_text": s.generated_text} for s in result.sequences] == expected
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    inputs = tokenizer(prompt, return_tensors="pt")
    ids = model.generate(**inputs, max_new_tokens=8, do_sample=False)[0]
    assert result.sequences[0].generated_text == prompt + tokenizer.decode(
        ids[inputs["input_ids"].shape[-1] :], skip_special_tokens=True
    )


def test_generation_attention_is_the_causal_attention_of_the_generated_ids(
    smollm2_gguf_path,
):
    folder, name = str(smollm2_gguf_path.parent), smollm2_gguf_path.name
    prompt = "So today, I just feel like"
    result = generation.generate(
        prompt,
        generation.GenerationOptions(max_new_tokens=6),
        model=str(smollm2_gguf_path),
    )
    tokenizer, model = load_direct(AutoModelForCausalLM, folder, gguf_file=name)
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(
            **inputs,
            max_new_tokens=6,
            do_sample=False,
            output_attentions=True,
            return_dict_in_generate=True,
        )
    ids = out.sequences[0]
    assert result.sequences[0].generated_text == prompt + tokenizer.decode(
        ids[inputs["input_ids"].shape[-1] :], skip_special_tokens=True
    )
    maps = result.sequences[0].attention
    assert list(maps.query_tokens) == tokenizer.convert_ids_to_tokens(ids)
    np.testing.assert_allclose(maps.weights, stacked(forward(model, input_ids=ids[None]).attentions), atol=ATOL)
    # The rows equal what generate itself attended to, step by step (prompt first, then one row a step).
    prompt_length = inputs["input_ids"].shape[-1]
    np.testing.assert_allclose(
        maps.weights[:, :, :prompt_length, :prompt_length],
        stacked(out.attentions[0]),
        atol=1e-4,
    )
    for step, layers in enumerate(out.attentions[1:], start=1):
        row = prompt_length + step - 1
        np.testing.assert_allclose(maps.weights[:, :, row, : row + 1], stacked(layers)[:, :, 0, :], atol=1e-4)
    assert np.allclose(np.triu(maps.weights, k=1), 0.0), "causal attention never looks right"


def test_generation_streams_growing_text_then_the_result(tiny_models):
    options = generation.GenerationOptions(max_new_tokens=10)
    updates = list(generation.stream("I love food", options, model=str(tiny_models["generation"])))
    assert len(updates) >= 3 and updates[-1].done and not any(u.done for u in updates[:-1])
    final = updates[-1].texts[0]
    for update in updates[:-1]:
        assert final.startswith(update.texts[0])


def test_sampling_is_repeatable_with_a_seed(tiny_models):
    source = str(tiny_models["generation"])
    options = generation.GenerationOptions(max_new_tokens=12, do_sample=True, temperature=1.5, seed=3, num_sequences=2)
    first = generation.generate("I love", options, model=source).texts
    again = generation.generate("I love", options, model=source).texts
    assert first == again and len(first) == 2


def test_generation_options_out_of_range_name_the_setting():
    bad = generation.GenerationOptions(max_new_tokens=0, do_sample=True, temperature=0, top_p=2, num_sequences=9)
    with pytest.raises(InputError) as error:
        inputs.check_options(bad, max_new_tokens=256, max_sequences=4)
    for name in ("max_new_tokens", "temperature", "top_p", "number of sequences"):
        assert name in str(error.value)
    with pytest.raises(InputError, match="turn on sampling"):
        inputs.check_options(
            generation.GenerationOptions(num_sequences=2),
            max_new_tokens=256,
            max_sequences=4,
        )


# Translation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("num_beams", [1, 3])
def test_translation_equals_generate_and_its_teacher_forced_attention(tiny_models, num_beams):
    """Greedy by default, beams when asked: either way the text generate gives, and its attention."""
    source = tiny_models["translation_fr"]
    text = "You like this house"
    result = translation.translate(text, "French", models={"French": str(source)}, num_beams=num_beams)
    tokenizer, model = load_direct(AutoModelForSeq2SeqLM, source)
    inputs = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        produced = model.generate(**inputs, max_new_tokens=256, num_beams=num_beams, do_sample=False)[0]
    assert result.as_pipeline_output() == [{"translation_text": tokenizer.decode(produced, skip_special_tokens=True)}]
    out = forward(model, **inputs, decoder_input_ids=produced[None])
    np.testing.assert_allclose(result.cross_attention.weights, stacked(out.cross_attentions), atol=ATOL)
    np.testing.assert_allclose(result.encoder_attention.weights, stacked(out.encoder_attentions), atol=ATOL)
    assert list(result.cross_attention.query_tokens) == tokenizer.convert_ids_to_tokens(produced)
    assert list(result.cross_attention.key_tokens) == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])


def test_translation_beams_out_of_range_say_what_is_allowed():
    with pytest.raises(InputError, match=r"from 1 \(greedy\) to 4, not 5"):
        inputs.check_beams(5, max_beams=4)


def test_translation_unknown_language_names_the_choices(tiny_models):
    with pytest.raises(InputError, match="choose one of: French"):
        translation.translate(
            "I am a student",
            "Klingon",
            models={"French": str(tiny_models["translation_fr"])},
        )


# Attention ------------------------------------------------------------------------------------


def test_attention_of_a_sentence_pair_equals_real_bert(minilm_path):
    text, pair = (
        "She is eating a green apple",
        "She bought the apple from the local market.",
    )
    result = attention.attend(text, pair, model=str(minilm_path))
    tokenizer, model = load_direct(AutoModel, minilm_path)
    inputs = tokenizer(text, pair, return_tensors="pt")
    np.testing.assert_allclose(
        result.attention.weights,
        stacked(forward(model, **inputs).attentions),
        atol=ATOL,
    )
    raw = result.as_raw_output()
    assert raw["tokens"] == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    assert (raw["num_layers"], raw["num_heads"]) == (6, 12)
    assert raw["tokens"].count("[SEP]") == 2
    np.testing.assert_allclose(result.attention.weights.sum(-1), 1.0, atol=1e-5)


def test_attention_reuses_another_tasks_model(tiny_models):
    from services.models import MODELS

    source = str(tiny_models["sentiment"])
    sentiment.classify(["I love food"], model=source)
    before = MODELS.get("sequence-classification", source)
    result = attention.attend("I love food", model=source, kind="sequence-classification")
    assert MODELS.get("sequence-classification", source) is before
    assert result.attention.num_layers == before.model.config.n_layers


def test_attention_layer_and_head_choice(minilm_path):
    maps = attention.attend("The animal didn't cross the street", model=str(minilm_path)).attention
    np.testing.assert_allclose(chosen_matrix(maps, 6, "mean"), maps.weights[5].mean(axis=0))
    np.testing.assert_array_equal(chosen_matrix(maps, 1, "3"), maps.weights[0, 2])
    with pytest.raises(InputError, match="layers 1 to 6"):
        chosen_matrix(maps, 7)
    with pytest.raises(InputError, match="heads 1 to 12"):
        chosen_matrix(maps, 1, 13)
