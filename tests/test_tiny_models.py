"""Checks that the tiny offline checkpoints (tests/tiny_models.py) act like real."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    MarianTokenizer,
)

from testkit.tokenizers import COURSE_SENTENCES, train_wordpiece_vocab
from tests.tiny_models import build_sentiment, build_translation

SENTENCE = "The animal didn't cross the street because it was too tired"
PAIR = ("She is eating a green apple", "She bought the apple from the local market.")

EXPECTED_KEYS = {"sentiment", "zero_shot", "generation", "translation_fr", "translation_de", "attention", "fill_mask"}


def _load(folder: Path, auto_cls):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = auto_cls.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    return tokenizer, model


def _assert_not_mostly_unk(tokenizer, text: str) -> list[int]:
    ids = tokenizer(text)["input_ids"]
    special = set(tokenizer.all_special_ids)
    content = [i for i in ids if i not in special]
    assert content, f"no content tokens for {text!r}: {ids}"
    unk = tokenizer.unk_token_id
    assert sum(i == unk for i in content) == 0, tokenizer.convert_ids_to_tokens(ids)
    return ids


def _assert_self_attn(
    attentions,
    n_layers: int,
    n_heads: int,
    batch: int,
    q_len: int,
    k_len: int | None = None,
):
    k_len = q_len if k_len is None else k_len
    assert attentions is not None
    assert len(attentions) == n_layers
    for layer in attentions:
        assert layer.shape == (batch, n_heads, q_len, k_len)
        assert torch.isfinite(layer).all()
        # softmax rows sum to one (masked rows included since there is no padding here)
        torch.testing.assert_close(layer.sum(-1), torch.ones(batch, n_heads, q_len), atol=1e-4, rtol=1e-4)


def test_build_all_keys_and_vocab_sizes(tiny_models):
    assert set(tiny_models) == EXPECTED_KEYS
    for name, folder in tiny_models.items():
        assert (folder / "config.json").is_file(), name
        assert (folder / "model.safetensors").is_file(), name
        config = AutoConfig.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        assert config.vocab_size == len(tokenizer), name


@pytest.mark.parametrize("text", COURSE_SENTENCES)
@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_course_sentences_tokenize_without_unk(tiny_models, name, text):
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[name])
    ids = _assert_not_mostly_unk(tokenizer, text)
    decoded = tokenizer.decode(ids, skip_special_tokens=True)

    # WordPiece is uncased and splits punctuation; compare on letters only.
    def norm(s: str) -> str:
        return "".join(c for c in s.lower() if c.isalnum())

    assert norm(decoded) == norm(text)


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_unseen_words_split_instead_of_unk(tiny_models, name):
    tokenizer = AutoTokenizer.from_pretrained(tiny_models[name])
    _assert_not_mostly_unk(tokenizer, "Quixotic Zebra #42 yelps: JAZZ & vex!")


def test_sentiment(tiny_models):
    tokenizer, model = _load(tiny_models["sentiment"], AutoModelForSequenceClassification)
    assert type(model).__name__ == "DistilBertForSequenceClassification"
    assert model.config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert model.config.label2id == {"NEGATIVE": 0, "POSITIVE": 1}
    assert tokenizer.cls_token == "[CLS]"
    assert tokenizer.sep_token == "[SEP]"
    assert tokenizer.pad_token == "[PAD]"
    assert tokenizer.mask_token == "[MASK]"
    assert tokenizer.model_max_length == 64
    # uncased
    assert tokenizer.tokenize("I LOVE FOOD") == tokenizer.tokenize("i love food")

    enc = tokenizer(COURSE_SENTENCES[:2], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    assert out.logits.shape == (2, 2)
    batch, seq = enc["input_ids"].shape
    assert len(out.attentions) == 2
    for layer in out.attentions:
        assert layer.shape == (batch, 4, seq, seq)

    long_text = " ".join(COURSE_SENTENCES * 5)
    truncated = tokenizer(long_text, truncation=True)["input_ids"]
    assert len(truncated) == 64
    assert truncated[0] == tokenizer.cls_token_id
    assert truncated[-1] == tokenizer.sep_token_id


def test_zero_shot(tiny_models):
    tokenizer, model = _load(tiny_models["zero_shot"], AutoModelForSequenceClassification)
    assert type(model).__name__ == "BartForSequenceClassification"
    assert model.config.id2label == {0: "contradiction", 1: "neutral", 2: "entailment"}
    assert model.config.label2id == {"contradiction": 0, "neutral": 1, "entailment": 2}
    for tok in ("<s>", "<pad>", "</s>", "<unk>", "<mask>"):
        assert tok in tokenizer.get_vocab()
    assert tokenizer.model_max_length == 128

    enc = tokenizer(SENTENCE, "This example is about animals.", return_tensors="pt")
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    assert tokens[0] == "<s>"
    assert tokens[-1] == "</s>"
    assert tokens.count("</s>") == 3  # <s> A </s></s> B </s>

    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    assert out.logits.shape == (1, 3)
    seq = enc["input_ids"].shape[1]
    _assert_self_attn(out.encoder_attentions, 2, 4, 1, seq)
    _assert_self_attn(out.decoder_attentions, 2, 4, 1, seq)
    _assert_self_attn(out.cross_attentions, 2, 4, 1, seq, seq)

    # batched pairs with padding (zero-shot pipeline style)
    hypotheses = [f"This example is {label}." for label in ("food", "school", "travel")]
    enc = tokenizer([SENTENCE] * 3, hypotheses, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits
    assert logits.shape == (3, 3)


def test_generation(tiny_models):
    tokenizer, model = _load(tiny_models["generation"], AutoModelForCausalLM)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tokenizer.bos_token == "<s>"
    assert tokenizer.eos_token == "</s>"
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id
    assert model.config.max_position_embeddings == 256

    enc = tokenizer(COURSE_SENTENCES[3], return_tensors="pt")
    assert enc["input_ids"][0, 0].item() == tokenizer.bos_token_id
    seq = enc["input_ids"].shape[1]
    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    assert out.logits.shape == (1, seq, len(tokenizer))
    _assert_self_attn(out.attentions, 2, 4, 1, seq)
    # causal: nothing attends to the future
    assert torch.all(torch.triu(out.attentions[0][0, 0], diagonal=1) == 0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        generated = model.generate(**enc, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert generated.shape == (1, seq + 5)
    assert torch.equal(generated[0, :seq], enc["input_ids"][0])
    text = tokenizer.decode(generated[0, seq:], skip_special_tokens=True)
    assert isinstance(text, str)
    # greedy decoding is deterministic
    again = model.generate(**enc, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert torch.equal(generated, again)


@pytest.mark.parametrize("name", ["translation_fr", "translation_de"])
def test_translation(tiny_models, name):
    folder = tiny_models[name]
    for filename in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        assert (folder / filename).is_file(), filename
    tokenizer, model = _load(folder, AutoModelForSeq2SeqLM)
    assert isinstance(tokenizer, MarianTokenizer)
    assert isinstance(MarianTokenizer.from_pretrained(folder), MarianTokenizer)
    assert type(model).__name__ == "MarianMTModel"

    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    config = model.config
    assert config.vocab_size == len(vocab) == len(tokenizer)
    assert config.pad_token_id == vocab["<pad>"] == tokenizer.pad_token_id
    assert config.eos_token_id == vocab["</s>"] == tokenizer.eos_token_id
    assert config.decoder_start_token_id == config.pad_token_id
    assert model.generation_config.decoder_start_token_id == config.pad_token_id

    enc = tokenizer(COURSE_SENTENCES[:2], padding=True, return_tensors="pt")
    assert (enc["input_ids"][:, -1] == tokenizer.eos_token_id).any()
    labels = tokenizer(
        text_target=["J'aime la nourriture.", "Ich bin ein Student."],
        padding=True,
        return_tensors="pt",
    )
    decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=labels["input_ids"])
    with torch.no_grad():
        out = model(**enc, decoder_input_ids=decoder_input_ids, output_attentions=True)
    batch, src_len = enc["input_ids"].shape
    tgt_len = decoder_input_ids.shape[1]
    assert out.logits.shape == (batch, tgt_len, len(tokenizer))
    for attn, q, k in (
        (out.encoder_attentions, src_len, src_len),
        (out.decoder_attentions, tgt_len, tgt_len),
        (out.cross_attentions, tgt_len, src_len),
    ):
        assert len(attn) == 2
        for layer in attn:
            assert layer.shape == (batch, 4, q, k)

    generated = model.generate(**enc, max_new_tokens=6, num_beams=1, do_sample=False)
    assert generated.shape[0] == batch
    assert 1 < generated.shape[1] <= 7
    assert (generated[:, 0] == config.decoder_start_token_id).all()
    decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
    assert all(isinstance(s, str) for s in decoded)
    # default generation settings (beam search, small max_length) also work
    assert model.generate(**tokenizer(SENTENCE, return_tensors="pt")).shape[1] <= 32


@pytest.mark.slow  # a 256-token generate of a model that never writes </s>: seconds each
@pytest.mark.parametrize("name", ["translation_fr", "translation_de"])
def test_translation_at_the_apps_length_limit(tiny_models, name):
    """What the app does with its own limit: a 256-token generate, then one teacher-forced pass over its ids."""
    tokenizer, model = _load(tiny_models[name], AutoModelForSeq2SeqLM)
    single = tokenizer([SENTENCE], return_tensors="pt")
    with torch.inference_mode():
        produced = model.generate(**single, max_new_tokens=256)[0]
        out = model(**single, decoder_input_ids=produced.unsqueeze(0), output_attentions=True)
    assert out.cross_attentions[-1].shape == (1, 4, produced.shape[0], single["input_ids"].shape[1])


def test_attention(tiny_models):
    tokenizer, model = _load(tiny_models["attention"], AutoModel)
    assert type(model).__name__ == "BertModel"
    assert tokenizer.model_max_length == 64
    enc = tokenizer(*PAIR, return_tensors="pt")
    type_ids = enc["token_type_ids"][0].tolist()
    assert type_ids[0] == 0
    assert type_ids[-1] == 1
    assert sorted(type_ids) == type_ids
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    assert tokens[0] == "[CLS]"
    assert tokens.count("[SEP]") == 2
    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    seq = enc["input_ids"].shape[1]
    assert out.last_hidden_state.shape == (1, seq, 32)
    _assert_self_attn(out.attentions, 2, 4, 1, seq)


def test_fill_mask(tiny_models):
    tokenizer, model = _load(tiny_models["fill_mask"], AutoModelForMaskedLM)
    assert type(model).__name__ == "BertForMaskedLM"
    enc = tokenizer("This man works as a [MASK].", return_tensors="pt")
    assert enc["input_ids"][0].tolist().count(tokenizer.mask_token_id) == 1  # [MASK] stays one token
    with torch.no_grad():
        out = model(**enc, output_attentions=True)
    seq = enc["input_ids"].shape[1]
    assert out.logits.shape == (1, seq, len(tokenizer))
    _assert_self_attn(out.attentions, 2, 4, 1, seq)
    # The sharpened head gives the fills distinct scores: the top 5 differ by more than rounding.
    top = out.logits[0, enc["input_ids"][0] == tokenizer.mask_token_id].softmax(-1).topk(5).values[0]
    assert float((top[:-1] - top[1:]).min()) > 1e-5


def test_builds_are_deterministic_and_seeded(tiny_models, tmp_path):
    rebuilt = AutoModelForSequenceClassification.from_pretrained(build_sentiment(tmp_path / "s"))
    original = AutoModelForSequenceClassification.from_pretrained(tiny_models["sentiment"])
    for (k1, v1), (k2, v2) in zip(rebuilt.state_dict().items(), original.state_dict().items(), strict=True):
        assert k1 == k2
        assert torch.equal(v1, v2), k1
    # The learned tokenizer is reproducible too (WordPieceTrainer alone is not).
    assert train_wordpiece_vocab() == train_wordpiece_vocab()
    rebuilt = (tmp_path / "s" / "tokenizer.json").read_bytes()
    assert rebuilt == (tiny_models["sentiment"] / "tokenizer.json").read_bytes()

    fr = AutoModelForSeq2SeqLM.from_pretrained(tiny_models["translation_fr"])
    de = AutoModelForSeq2SeqLM.from_pretrained(tiny_models["translation_de"])
    key = "model.encoder.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(fr.state_dict()[key], de.state_dict()[key])
    fr_again = AutoModelForSeq2SeqLM.from_pretrained(build_translation(tmp_path / "fr", seed=0))
    assert torch.equal(fr.state_dict()[key], fr_again.state_dict()[key])


def test_real_model_fixtures(minilm_path, smollm2_gguf_path):
    config = json.loads((minilm_path / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert"
    assert (minilm_path / "model.safetensors").is_file()
    with smollm2_gguf_path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
