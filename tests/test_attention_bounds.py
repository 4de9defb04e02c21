"""Attention grows with the square of the tokens, and with every input of a batch: the app caps the
tokens of an input, and splits a batch into passes whose attention fits a byte budget. Split or not,
every number is the same."""

from __future__ import annotations

import numpy as np
import pytest

from services import attention, generation, sentiment, translation, zero_shot
from services.config import Limits
from services.encoding import items_per_pass
from services.errors import InputError
from services.inputs import GenerationOptions
from services.model_facts import ModelFacts
from services.models import MODELS
from tests.app_server import playground_env, serving
from tests.figures import heatmap_matrices
from tests.helpers import explorer_outputs

LONG = "The animal didn't cross the street because it was too tired. " * 20
LABELS = ["education", "politics", "a long label about world cup football", "food"]


@pytest.fixture
def passes(monkeypatch):
    """Counts forward passes of a loaded model."""

    def watch(kind: str, source: str) -> list[int]:
        model = MODELS.get(kind, source).model
        forward, calls = model.forward, []

        def counted(*args, **kwargs):
            calls.append(1)
            return forward(*args, **kwargs)

        monkeypatch.setattr(model, "forward", counted)
        return calls

    return watch


def bart_large(layers: int = 12, decoder_layers: int = 12, heads: int = 16) -> ModelFacts:
    return ModelFacts("bart", "Bart", "encoder-decoder", layers, decoder_layers, heads, 1024, 0, 0, 1024, "BPE")


def test_a_pass_holds_as_many_inputs_as_its_attention_budget_allows():
    # bart-large-mnli returns 12 encoder, 12 decoder and 12 cross-attention maps of 16 heads per pair.
    assert items_per_pass(bart_large(), 512, 10**9) == 1  # 604 MB a pair
    assert items_per_pass(bart_large(), 20, 10**9) == 10**9 // (36 * 16 * 20 * 20 * 4)
    assert items_per_pass(bart_large(), 512, None) >= 1000  # no budget, one pass


def test_the_budget_counts_every_attention_array_a_pair_returns(tiny_models):
    loaded = MODELS.get("sequence-classification", str(tiny_models["zero_shot"]))
    batch = loaded.tokenizer(["a premise here"] * 3, ["a hypothesis"] * 3, return_tensors="pt")
    outputs = loaded.model(**batch, output_attentions=True)
    arrays = [*outputs.encoder_attentions, *outputs.decoder_attentions, *outputs.cross_attentions]
    returned = sum(a.numel() * a.element_size() for a in arrays)
    tokens = batch["input_ids"].shape[-1]
    assert items_per_pass(loaded.facts, tokens, returned) == 3
    assert items_per_pass(loaded.facts, tokens, returned - 1) == 2


@pytest.mark.parametrize("multi_label", [False, True])
def test_zero_shot_in_passes_of_one_pair_equals_one_pass(tiny_models, passes, multi_label):
    source = str(tiny_models["zero_shot"])
    text = "History isn't really a fun class"
    whole = zero_shot.classify(text, LABELS, model=source, multi_label=multi_label)
    calls = passes("sequence-classification", source)
    split = zero_shot.classify(text, LABELS, model=source, multi_label=multi_label, max_attention_bytes=1)
    assert len(calls) == len(LABELS)
    assert split.labels == whole.labels and split.hypothesis == whole.hypothesis
    np.testing.assert_allclose(split.scores, whole.scores, atol=1e-6)
    for one, other in zip(split.nli, whole.nli, strict=True):
        assert one == pytest.approx(other, abs=1e-6)
    np.testing.assert_allclose(split.attention.weights, whole.attention.weights, atol=1e-5)
    for one, other in zip(split.label_attention, whole.label_attention, strict=True):
        assert (one.title, one.query, one.key) == (other.title, other.query, other.key)
        np.testing.assert_allclose(one.weights, other.weights, atol=1e-5)


def test_sentiment_in_passes_equals_one_pass(tiny_models, passes):
    source = str(tiny_models["sentiment"])
    texts = ["I love food.", LONG, "Rain again", "What a day it has been!", "meh"]
    whole = sentiment.classify(texts, model=source)
    calls = passes("sequence-classification", source)
    split = sentiment.classify(texts, model=source, max_attention_bytes=1)
    assert len(calls) == len(texts)
    for one, other in zip(split, whole, strict=True):
        assert (one.text, one.label, one.truncated) == (other.text, other.label, other.truncated)
        assert one.probabilities == pytest.approx(other.probabilities, abs=1e-6)
        assert one.attention.query == other.attention.query
        np.testing.assert_allclose(one.attention.weights, other.attention.weights, atol=1e-5)


def test_every_service_cuts_its_input_to_max_tokens(tiny_models):
    [short, cut] = sentiment.classify(["I love food.", LONG], model=str(tiny_models["sentiment"]), max_tokens=12)
    assert not short.truncated and cut.truncated and len(cut.attention.query) == 12
    attended = attention.attend(LONG, model=str(tiny_models["attention"]), max_tokens=8)
    assert attended.truncated and attended.attention.weights.shape[-2:] == (8, 8)
    models = {"French": str(tiny_models["translation_fr"])}
    translated = translation.translate(LONG, "French", models=models, max_tokens=8, max_new_tokens=4)
    assert translated.truncated and len(translated.encoder_attention.query) == 8
    classified = zero_shot.classify(LONG, ["food", "sports"], model=str(tiny_models["zero_shot"]), max_tokens=24)
    assert classified.truncated and len(classified.attention.query) == 24
    assert classified.hypothesis.endswith(f"{classified.labels[0]}.")  # the hypothesis is never cut


def test_a_label_too_long_to_leave_room_for_the_premise_says_so(tiny_models):
    label = "world cup football " * 10
    too_long = r"The hypothesis for the label 'world cup football.*' is too long.*at most 24"
    with pytest.raises(InputError, match=too_long):
        zero_shot.classify("x", ["food", label], model=str(tiny_models["zero_shot"]), max_tokens=24)


def test_a_prompt_keeps_its_end_and_leaves_room_for_the_new_tokens_within_max_tokens(tiny_models):
    options = GenerationOptions(max_new_tokens=4)
    last = generation.generate(LONG, options, model=str(tiny_models["generation"]), max_tokens=12)
    assert last.prompt_truncated
    run = last.sequences[0].attention
    assert len(run.query) <= 12 and run.query.words[0] != "The"


def test_the_app_applies_its_token_limit_in_every_tab(tiny_models, broken_model):
    calls = {
        "/sentiment": {"text": LONG},
        "/zero_shot": {"text": LONG, "labels": "food, sports"},
        "/generate": {"prompt": LONG, "max_new_tokens": 2},
        "/translate": {"text": LONG, "target_language": "French"},
        "/attention": {"text": LONG},
    }
    # The tabs' outputs before their explorer's.
    explorer_start = {"/sentiment": 4, "/zero_shot": 4, "/generate": 2, "/translate": 3, "/attention": 2}
    with serving(playground_env(tiny_models, broken_model), limits=Limits(max_tokens=24)) as client:
        for api_name, kwargs in calls.items():
            outputs = client.predict(**kwargs, api_name=api_name)
            [matrix] = heatmap_matrices(explorer_outputs(outputs, explorer_start[api_name])["plot"])
            # A translation's own length is bounded by max_translation_tokens; its source by max_tokens.
            tokens = matrix.shape[1] if api_name == "/translate" else max(matrix.shape)
            assert tokens <= 24, api_name
