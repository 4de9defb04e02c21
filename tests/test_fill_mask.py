"""The fill-mask lab's service and input parsing: the fills equal pipeline("fill-mask") on a tiny random
masked LM, the comparison equals both sentences' softmax computed directly, and bad input is named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForMaskedLM, RobertaConfig, RobertaForMaskedLM, RobertaTokenizer, pipeline

from components.fill_mask_plots import FillColumn, difference_bars, fills_side_by_side
from services import fill_mask
from services.config import Limits
from services.errors import InputError
from services.mask_inputs import Masked, fill_mask_query
from testkit.tokenizers import train_byte_bpe
from tests.helpers import load_direct

MAN, WOMAN = "This man works as a [MASK].", "This woman works as a [MASK]."
LIMITS = Limits()


def query(text: object, text_b: object = "", top_k: object = 5):
    return fill_mask_query(text, text_b, top_k, max_chars=LIMITS.max_input_chars, max_top_k=LIMITS.max_fill_mask_top_k)


@pytest.fixture(scope="module")
def roberta_mlm(tmp_path_factory) -> str:
    """A tiny random RobertaForMaskedLM, whose mask token is `<mask>`, with a byte-level BPE tokenizer."""
    vocab, merges = train_byte_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=64)
    torch.manual_seed(5)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=80,
        pad_token_id=tokenizer.pad_token_id,
    )
    folder = tmp_path_factory.mktemp("roberta_mlm")
    RobertaForMaskedLM(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def assert_like_pipeline(got: list[dict], expected: list[dict]) -> None:
    """The same fills in the same order, the same strings, and the same scores (to float32 rounding)."""
    assert [(f["token"], f["token_str"], f["sequence"]) for f in got] == [
        (f["token"], f["token_str"], f["sequence"]) for f in expected
    ]
    np.testing.assert_allclose([f["score"] for f in got], [f["score"] for f in expected], rtol=1e-5, atol=1e-7)


def test_both_sentences_fills_equal_the_fill_mask_pipeline(tiny_models):
    source = str(tiny_models["fill_mask"])
    result = fill_mask.fill_mask(query(MAN, WOMAN, 7), model=source)
    expected = pipeline("fill-mask", model=source)([MAN, WOMAN], top_k=7)
    raw = result.as_pipeline_output()
    assert len(raw) == 2
    for got, wanted in zip(raw, expected, strict=True):
        assert_like_pipeline(got, wanted)


def test_one_sentence_is_shaped_as_the_pipeline_gives_it(tiny_models):
    source = str(tiny_models["fill_mask"])
    result = fill_mask.fill_mask(query(MAN), model=source)
    expected = pipeline("fill-mask", model=source)(MAN)  # top_k=5, the pipeline's default and the lab's
    assert_like_pipeline(result.as_pipeline_output(), expected)
    assert result.comparison is None


def test_a_models_own_mask_token_takes_the_place_of_the_visitors_mask(roberta_mlm):
    """The visitor writes [MASK]; a RoBERTa-like model reads its `<mask>`, as the pipeline given `<mask>` does."""
    result = fill_mask.fill_mask(query("I love [MASK] so much.", "I am a <MASK>"), model=roberta_mlm)
    expected = pipeline("fill-mask", model=roberta_mlm)(["I love <mask> so much.", "I am a <mask>"])
    for got, wanted in zip(result.as_pipeline_output(), expected, strict=True):
        assert_like_pipeline(got, wanted)
    first = result.predictions[0]
    assert first.attention.query.tokens[first.mask] == "<mask>"
    assert first.text == "I love [MASK] so much."  # as the page writes it


def test_the_comparison_is_each_sentences_full_softmax_on_the_union_of_their_top_k(tiny_models):
    source = str(tiny_models["fill_mask"])
    result = fill_mask.fill_mask(query(MAN, WOMAN, 4), model=source)
    tokenizer, model = load_direct(AutoModelForMaskedLM, source)
    probabilities = []
    for sentence in (MAN, WOMAN):  # one at a time, unpadded: the reference the batch must match
        inputs = tokenizer(sentence, return_tensors="pt")
        mask = int((inputs["input_ids"][0] == tokenizer.mask_token_id).nonzero())
        with torch.inference_mode():
            probabilities.append(model(**inputs).logits[0, mask].softmax(-1))
    tops = [set(p.topk(4).indices.tolist()) for p in probabilities]
    comparison = result.comparison
    assert set(comparison.token_ids) == tops[0] | tops[1]
    assert len(comparison.token_ids) == len(tops[0] | tops[1])  # each word once
    ids = list(comparison.token_ids)
    np.testing.assert_allclose(comparison.first, probabilities[0][ids].numpy(), rtol=1e-5)
    np.testing.assert_allclose(comparison.second, probabilities[1][ids].numpy(), rtol=1e-5)
    expected = (probabilities[0] - probabilities[1])[ids].numpy()
    np.testing.assert_allclose(comparison.difference, expected, atol=1e-7)
    # A word outside one sentence's top-k still has its probability there, not 0.
    only_second = [i for i, token in enumerate(ids) if token not in tops[0]]
    assert only_second and all(comparison.first[i] > 0 for i in only_second)


def test_the_mask_is_the_runs_focus_and_its_attention_is_the_models(tiny_models):
    source = str(tiny_models["fill_mask"])
    result = fill_mask.fill_mask(query(MAN, WOMAN), model=source)
    tokenizer, model = load_direct(AutoModelForMaskedLM, source)
    for sentence, prediction in zip((MAN, WOMAN), result.predictions, strict=True):
        inputs = tokenizer(sentence, return_tensors="pt")
        ids = inputs["input_ids"][0].tolist()
        assert prediction.attention.query.ids == tuple(ids)  # padding left out
        assert prediction.mask == ids.index(tokenizer.mask_token_id) == prediction.attention.focus
        with torch.inference_mode():
            attentions = model(**inputs, output_attentions=True).attentions
        expected = np.stack([layer[0].numpy() for layer in attentions])
        np.testing.assert_allclose(prediction.attention.weights, expected, atol=1e-5)


def test_a_mask_cut_off_by_the_token_limit_is_named(tiny_models):
    long = "word " * 40 + "[MASK]."
    with pytest.raises(InputError, match=r"first sentence's \[MASK\] comes after its first 16 tokens"):
        fill_mask.fill_mask(query(long), model=str(tiny_models["fill_mask"]), max_tokens=16)
    truncated = fill_mask.fill_mask(
        query("[MASK] " + long.replace("[MASK]", "")), model=str(tiny_models["fill_mask"]), max_tokens=16
    )
    assert truncated.predictions[0].truncated


# Parsing: torch-free, at the edge ----------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["[MASK]", "[mask]", "<mask>", "<MASK>"])
def test_every_mask_spelling_marks_the_mask(spelling):
    parsed = query(f"  He is a {spelling}.  ")
    assert parsed.sentences == (Masked("He is a ", "."),)
    assert parsed.sentences[0].text == "He is a [MASK]."
    assert parsed.sentences[0].with_mask("<mask>") == "He is a <mask>."


@pytest.mark.parametrize(
    ("text", "text_b", "top_k", "message"),
    [
        ("", "", 5, "first sentence is empty"),
        (None, "", 5, "first sentence is empty"),
        ("He is a man.", "", 5, r"first sentence has no \[MASK\]"),
        ("[MASK] is a [MASK].", "", 5, "first sentence has 2 masks; this lab fills exactly one"),
        ("He is a [MASK].", "She is a doctor.", 5, r"second sentence has no \[MASK\]"),
        ("He is a [MASK].", "<mask> <mask> <mask>", 5, "second sentence has 3 masks"),
        ("He is a [MASK].", 42, 5, "second sentence must be given as text"),
        ("x" * 10_001 + "[MASK]", "", 5, "10,007 characters long; the limit is 10,000"),
        ("\u0000\ud800\u200b", "", 5, "first sentence has no"),  # control characters and a lone surrogate go
        ("He is a [MASK].", "", 0, "top_k must be from 1 to 20, not 0"),
        ("He is a [MASK].", "", 21, "top_k must be from 1 to 20, not 21"),
        ("He is a [MASK].", "", 2.5, "top_k must be a whole number"),
        ("He is a [MASK].", "", "many", "top_k must be a number"),
        ("He is a [MASK].", "", float("nan"), "top_k must be a finite number"),
    ],
)
def test_bad_input_is_named(text, text_b, top_k, message):
    with pytest.raises(InputError, match=message):
        query(text, text_b, top_k)


def test_html_and_odd_unicode_reach_the_model_as_text():
    parsed = query("<b>Ünïcode</b> 👩‍🔬 is a [MASK]", " ", None)  # a blank second sentence: no comparison
    assert parsed.sentences[0].before == "<b>Ünïcode</b> 👩‍🔬 is a "
    assert not parsed.compared and parsed.top_k == 5


# The charts, from plain numbers -------------------------------------------------------------------


def test_the_difference_chart_sorts_words_by_p_first_minus_p_second():
    figure = difference_bars(
        ["nurse", "carpenter", "<b>"], ["nurse", "carpenter", "<b>"], [0.01, 0.2, 0.05], [0.3, 0.05, 0.05], title="t"
    )
    [bars] = figure.data
    assert list(bars.y) == ["carpenter", "&lt;b&gt;", "nurse"]  # escaped: Plotly would read a tag
    np.testing.assert_allclose(bars.x, [0.15, 0.0, -0.29])
    assert figure.layout.meta["labels"] == ["carpenter", "<b>", "nurse"]
    assert figure.layout.xaxis.range[0] == -figure.layout.xaxis.range[1]  # 0 in the middle


def test_small_differences_read_with_two_significant_digits_not_as_zero():
    figure = difference_bars(["he", "she"], ["he", "she"], [0.0031, 0.0010], [0.0010, 0.0012], title="t")
    [bars] = figure.data
    assert list(bars.text) == ["+0.21%", "-0.02%"]  # one decimal read "+0.2%" and "-0.0%"
    assert figure.layout.xaxis.tickformat == "+.2~%"


def test_both_sentences_share_one_probability_axis():
    columns = [
        FillColumn("This man works as a [MASK].", ["carpenter", "lawyer"], ["carpenter", "lawyer"], [0.3, 0.1]),
        FillColumn("This woman works as a [MASK].", ["nurse", "s"], ["nurse", "##s"], [0.6, 0.05]),
    ]
    figure = fills_side_by_side(columns, title="t")
    assert [list(bar.x) for bar in figure.data] == [[0.3, 0.1], [0.6, 0.05]]
    assert figure.layout.xaxis.range == figure.layout.xaxis2.range
    assert figure.layout.xaxis.range[1] >= 0.6
    assert figure.layout.meta["tokens"][1] == ["nurse", "##s"]


def test_the_attention_tab_reads_the_same_attention_from_the_shared_masked_lm(tiny_models):
    """When both tabs name one checkpoint, the attention tab loads it with its head: the head changes no
    attention, so the heatmap equals the bare encoder's."""
    from services import attention

    source = str(tiny_models["fill_mask"])
    shared = attention.attend(MAN, model=source, kind="masked-lm").attention
    bare = attention.attend(MAN, model=source, kind="encoder").attention
    assert shared.query.tokens == bare.query.tokens
    np.testing.assert_allclose(shared.weights, bare.weights, atol=1e-6)
