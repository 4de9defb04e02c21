"""The explanations the services add (words, model facts, NLI classes, label attention, decoding
steps) agree with the tokenizer, the config and transformers computed directly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
)

from services import attention, sentiment, translation, zero_shot
from services.model_facts import model_facts
from services.models import MODELS
from services.tokens import TokenAxis, token_axis
from tests.helpers import chosen_matrix, forward, load_direct

ATOL = 1e-5


def content_words(axis: TokenAxis) -> list[str]:
    """The words of `axis` that are not special tokens."""
    return [word for w, word in enumerate(axis.words) if not axis.special[axis.word_of.index(w)]]


def assert_words_are_runs(axis: TokenAxis) -> None:
    """word_of starts at 0, steps by 0 or 1, and names every word."""
    assert axis.word_of[0] == 0
    assert set(np.diff(axis.word_of).tolist()) <= {0, 1}
    assert axis.word_of[-1] == len(axis.words) - 1


# Tokens and words -----------------------------------------------------------------------------


def test_wordpiece_words_on_real_minilm(minilm_path):
    text = "The movie was unbelievably good 🤗"
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_path))
    ids = tokenizer(text)["input_ids"]
    axis = attention.attend(text, model=str(minilm_path)).attention.query
    assert axis == token_axis(tokenizer, ids)
    assert list(axis.tokens) == tokenizer.convert_ids_to_tokens(ids)
    assert_words_are_runs(axis)

    pieces = axis.word_tokens(axis.words.index("unbelievably"))
    assert len(pieces) > 1 and all(axis.tokens[i].startswith("##") for i in pieces[1:])
    for special in ("[CLS]", "[SEP]"):
        i = axis.tokens.index(special)
        assert axis.special[i] and axis.word_tokens(axis.word_of[i]) == [i] and axis.words[axis.word_of[i]] == special
    unknown = axis.tokens.index("[UNK]")  # the emoji: real text the vocabulary lacks
    assert not axis.special[unknown]
    assert content_words(axis) == ["the", "movie", "was", "unbelievably", "good", "[UNK]"]


@pytest.mark.parametrize("name", ["generation", "zero_shot", "translation_fr"])
def test_bpe_and_sentencepiece_words_are_the_texts_words(tiny_models, name):
    text = "You like this house and the student bought a green apple"
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_models[name]))
    axis = token_axis(tokenizer, tokenizer(text)["input_ids"])
    assert_words_are_runs(axis)
    assert content_words(axis) == text.split()
    if name == "translation_fr":  # SentencePiece splits "▁You" into a bare "▁" and "You"
        assert axis.tokens[:2] == ("▁", "Y") and axis.word_of[:2] == (0, 0)


def test_an_unk_that_doubles_as_eos_is_special(tiny_models):
    """GPT-2 and SmolLM2 name `<|endoftext|>` as unk, bos and eos: a generated end is structure."""
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_models["generation"]), unk_token="</s>")
    assert tokenizer.unk_token_id == tokenizer.eos_token_id
    axis = token_axis(tokenizer, [*tokenizer("I love food")["input_ids"], tokenizer.eos_token_id])
    assert axis.special[-1] and axis.words == ("<s>", "I", "love", "food", "</s>")


def test_padding_is_the_count_of_masked_positions(tiny_models):
    source = tiny_models["sentiment"]
    texts = ["I love food.", "I love food so much, she bought the apple from the local market."]
    short, long = sentiment.classify(texts, model=str(source))
    mask = AutoTokenizer.from_pretrained(str(source))(texts, padding=True, return_tensors="pt")["attention_mask"]
    assert short.attention.query.padding == int((mask[0] == 0).sum()) > 0
    assert long.attention.query.padding == 0
    assert len(short.attention.query) == int(mask[0].sum())


# Model facts ----------------------------------------------------------------------------------

# name, how it loads, its family, and the config's own names for (layers, heads, hidden size).
BART_NAMES = ("encoder_layers", "encoder_attention_heads", "d_model")
PLAIN_NAMES = ("num_hidden_layers", "num_attention_heads", "hidden_size")
TINY_FACTS = [
    ("sentiment", "sequence-classification", "encoder-only", ("n_layers", "n_heads", "dim")),
    ("zero_shot", "sequence-classification", "encoder-decoder", BART_NAMES),
    ("generation", "causal-lm", "decoder-only", PLAIN_NAMES),
    ("generation", "encoder", "decoder-only", PLAIN_NAMES),  # the attention tab's headless LlamaModel
    ("translation_fr", "seq2seq-lm", "encoder-decoder", BART_NAMES),
    ("attention", "encoder", "encoder-only", PLAIN_NAMES),
]


@pytest.mark.parametrize(("name", "kind", "family", "keys"), TINY_FACTS)
def test_model_facts_equal_the_config(tiny_models, name, kind, family, keys):
    loaded = MODELS.get(kind, str(tiny_models[name]))
    facts = loaded.facts
    config = AutoConfig.from_pretrained(str(tiny_models[name])).to_dict()
    assert facts.family == family
    assert (facts.layers, facts.heads, facts.hidden_size) == tuple(config[key] for key in keys)
    assert facts.decoder_layers == (config["decoder_layers"] if family == "encoder-decoder" else 0)
    assert facts.parameters == sum(p.numel() for p in loaded.model.parameters())
    assert facts.architecture == type(loaded.model).__name__
    assert facts.vocab_size == config["vocab_size"]


def test_model_facts_and_head_summaries_of_real_minilm(minilm_path):
    maps = attention.attend("The animal didn't cross the street", model=str(minilm_path)).attention
    np.testing.assert_array_equal(chosen_matrix(maps, 2, "max"), maps.weights[1].max(axis=0))
    np.testing.assert_allclose(chosen_matrix(maps, None, None), maps.weights[-1].mean(axis=0))
    facts = maps.facts
    _, model = load_direct(AutoModel, minilm_path)
    assert (facts.family, facts.layers, facts.heads, facts.hidden_size) == ("encoder-only", 6, 12, 384)
    assert facts.architecture == "BertModel"
    assert facts.parameters == sum(p.numel() for p in model.parameters())
    assert facts.tokenizer.startswith("WordPiece")


def test_gpt2_is_decoder_only(tiny_models):
    """GPT-2's class is `GPT2LMHeadModel` and its config has no `is_decoder`."""
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_models["generation"]))
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_layer=2, n_head=2, n_embd=16))
    facts = model_facts("gpt2", model, tokenizer, max_length=64)
    assert (facts.family, facts.layers, facts.heads, facts.hidden_size) == ("decoder-only", 2, 2, 16)


# Zero-shot ------------------------------------------------------------------------------------


def test_zero_shot_nli_and_label_attention_equal_the_direct_pairs(tiny_models):
    source = tiny_models["zero_shot"]
    text, labels = "History isn't really a fun class", ["education", "politics", "world cup football"]
    result = zero_shot.classify(text, labels, model=str(source))
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    hypotheses = [zero_shot.DEFAULT_TEMPLATE.format(label) for label in labels]
    inputs = tokenizer([text] * len(labels), hypotheses, truncation="only_first", padding=True, return_tensors="pt")
    out = forward(model, **inputs)
    probabilities = torch.softmax(out.logits.float(), dim=-1)
    assert len(result.nli) == len(result.label_attention) == len(labels)
    assert not result.attention.cross
    assert any(maps.query.padding for maps in result.label_attention)  # pairs of unequal length
    for rank, label in enumerate(result.labels):
        i = labels.index(label)
        expected = {model.config.id2label[j]: float(p) for j, p in enumerate(probabilities[i])}
        assert result.nli[rank] == pytest.approx(expected, abs=1e-6)

        sequence_ids = inputs.sequence_ids(i)
        premise = [p for p, s in enumerate(sequence_ids) if s == 0]
        hypothesis = [p for p, s in enumerate(sequence_ids) if s == 1]
        layers = np.stack([layer[i].float().numpy() for layer in out.encoder_attentions])
        maps = result.label_attention[rank]
        assert maps.cross
        np.testing.assert_allclose(maps.weights, layers[:, :, hypothesis][:, :, :, premise], atol=ATOL)
        ids = inputs["input_ids"][i]
        assert list(maps.query.tokens) == tokenizer.convert_ids_to_tokens(ids[hypothesis])
        assert list(maps.key.tokens) == tokenizer.convert_ids_to_tokens(ids[premise])
        assert list(maps.query.words) == hypotheses[i].split()
        assert list(maps.key.words) == text.split()


# Translation ----------------------------------------------------------------------------------


def test_translation_steps_name_the_row_that_wrote_each_token(tiny_models):
    source = tiny_models["translation_fr"]
    text = "You like this house"
    result = translation.translate(text, "French", models={"French": str(source)})
    cross, encoder = result.cross_attention, result.encoder_attention
    assert cross.cross and not encoder.cross
    assert cross.key == encoder.query and content_words(encoder.query) == text.split()
    assert len(cross.steps) == len(cross.query) - 1 > 0
    for t, step in enumerate(cross.steps):
        assert step.query == t and step.token == cross.query.tokens[t + 1]
    tokenizer, model = load_direct(AutoModelForSeq2SeqLM, source)
    inputs = tokenizer(text, return_tensors="pt")
    out = forward(model, **inputs, decoder_input_ids=torch.tensor([cross.query.ids]))
    assert cross.facts.family == "encoder-decoder"
    np.testing.assert_allclose(cross.weights, np.stack([layer[0].numpy() for layer in out.cross_attentions]), atol=ATOL)
