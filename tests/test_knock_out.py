"""Knocking heads out equals a hand-written hook zeroing them, for every family the app loads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoModelForSequenceClassification

from services import sentiment
from services.errors import InputError
from services.lenses.knockout import knocked_out
from services.recipe import KnockOut
from tests.helpers import load_direct
from tests.lens_reference import plain_eager, zeroed

ATOL = 1e-5
TEXT = "I love food so much."

# (fixture key, model class, stack): every family, and both of Marian's attentions.
FAMILIES = [
    ("sentiment", AutoModelForSequenceClassification, "attention"),
    ("attention", AutoModel, "attention"),
    ("zero_shot", AutoModelForSequenceClassification, "attention"),
    ("generation", AutoModelForCausalLM, "attention"),
    ("translation_fr", AutoModelForSeq2SeqLM, "attention"),
    ("translation_fr", AutoModelForSeq2SeqLM, "cross"),
]


def inputs_for(tokenizer, model) -> dict:
    if getattr(model.config, "is_encoder_decoder", False) and "Marian" in type(model).__name__:
        batch = tokenizer(TEXT, return_tensors="pt")
        return dict(batch) | {"decoder_input_ids": torch.tensor([[model.config.decoder_start_token_id, 5, 6, 7]])}
    if "Bart" in type(model).__name__:
        return dict(tokenizer(TEXT, "This example is food.", return_tensors="pt"))
    return dict(tokenizer(TEXT, return_tensors="pt"))


def output(model, inputs) -> torch.Tensor:
    with torch.no_grad():
        out = model(**inputs)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


def knock_out(stack: str, heads) -> KnockOut:
    return KnockOut(cross=tuple(heads)) if stack == "cross" else KnockOut(tuple(heads))


@pytest.fixture(scope="module")
def direct(tiny_models):
    loaded = {}
    for key, model_class, _ in FAMILIES:
        if key not in loaded:
            loaded[key] = load_direct(model_class, tiny_models[key])
    return loaded


@pytest.mark.parametrize(("key", "model_class", "stack"), FAMILIES)
def test_one_head_knocked_out_equals_a_hook_zeroing_it(direct, key, model_class, stack):
    tokenizer, model = direct[key]
    inputs = inputs_for(tokenizer, model)
    heads = [(2, 3), (1, 1)]
    with zeroed(model, heads, stack=stack):
        expected = output(model, inputs)
    with knocked_out(model, knock_out(stack, heads)):
        got = output(model, inputs)
    with plain_eager():
        plain = output(model, inputs)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=ATOL)
    assert not np.allclose(got.numpy(), plain.numpy(), atol=1e-7), "the knock-out changed nothing"


@pytest.mark.parametrize(("key", "model_class", "stack"), FAMILIES)
def test_every_head_of_a_layer_equals_zeroing_its_attention_output(direct, key, model_class, stack):
    tokenizer, model = direct[key]
    inputs = inputs_for(tokenizer, model)
    with zeroed(model, [(1, 1)], stack=stack, whole=True):
        expected = output(model, inputs)
    heads = model.config.decoder_attention_heads if stack == "cross" else model.config.num_attention_heads
    with knocked_out(model, knock_out(stack, [(1, head) for head in range(1, heads + 1)])):
        got = output(model, inputs)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=ATOL)


def test_the_service_shows_zero_attention_for_knocked_out_heads(tiny_models):
    source = str(tiny_models["sentiment"])
    [plain] = sentiment.classify([TEXT], model=source)
    [knocked] = sentiment.classify([TEXT], model=source, knock_out=KnockOut(((2, 3),)))
    weights = knocked.attention.weights
    assert np.all(weights[1, 2] == 0.0)
    np.testing.assert_allclose(weights[0], plain.attention.weights[0], atol=ATOL)  # layer 1 reads the same input
    np.testing.assert_allclose(weights[1, [0, 1, 3]].sum(-1), 1.0, atol=ATOL)
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    with zeroed(model, [(2, 3)]):
        expected = torch.softmax(output(model, dict(tokenizer(TEXT, return_tensors="pt"))), -1)[0]
    assert knocked.probabilities == pytest.approx(
        dict(zip(("NEGATIVE", "POSITIVE"), expected.tolist(), strict=True)), abs=1e-6
    )
    assert knocked.attention.recipe.knock_out == KnockOut(((2, 3),))


def test_a_knock_out_touches_no_other_thread(direct):
    """Two visitors on one model at once: only the one who asked loses the heads."""
    tokenizer, model = direct["sentiment"]
    inputs = inputs_for(tokenizer, model)
    with plain_eager():
        plain = output(model, inputs)
    inside, seen = threading.Event(), {}

    def other_visitor():
        assert inside.wait(timeout=30)
        seen["other"] = output(model, inputs)

    thread = threading.Thread(target=other_visitor)
    thread.start()
    with knocked_out(model, KnockOut(((1, 1), (1, 2), (2, 1)))):
        inside.set()
        thread.join(timeout=30)
        mine = output(model, inputs)
    np.testing.assert_allclose(seen["other"].numpy(), plain.numpy(), atol=ATOL)
    assert not np.allclose(mine.numpy(), plain.numpy(), atol=1e-7)


@pytest.mark.parametrize(
    ("heads", "message"),
    [
        (((3, 1),), "Heads to knock out: layer 3 does not exist; this model has layers 1 to 2."),
        (((1, 13),), "Heads to knock out: head 13 does not exist; this model has heads 1 to 4."),
    ],
)
def test_heads_the_model_lacks_are_named(direct, heads, message):
    _, model = direct["sentiment"]
    with pytest.raises(InputError) as error, knocked_out(model, KnockOut(heads)):
        pass
    assert str(error.value) == message


def test_real_minilm_and_smollm2_every_head_of_a_layer(minilm_path, smollm2_gguf_path):
    checks = [
        (load_direct(AutoModel, minilm_path), 3),
        (load_direct(AutoModelForCausalLM, smollm2_gguf_path.parent, gguf_file=smollm2_gguf_path.name), 7),
    ]
    for (tokenizer, model), layer in checks:
        inputs = dict(tokenizer(TEXT, return_tensors="pt"))
        with zeroed(model, [(layer, 1)], whole=True):
            expected = output(model, inputs)
        every = [(layer, head) for head in range(1, model.config.num_attention_heads + 1)]
        with knocked_out(model, KnockOut(tuple(every))):
            got = output(model, inputs)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-4)
        with zeroed(model, [(layer, 2)]):
            expected = output(model, inputs)
        with knocked_out(model, KnockOut(((layer, 2),))):
            got = output(model, inputs)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-4)
