"""/fill_mask through gradio_client against the launched app: pipeline-shaped raw output, the charts' numbers,
the explorer showing the run's attention with the mask in focus, and bad input named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForMaskedLM, pipeline

from tests.figures import figure_dict, heatmap_matrices
from tests.helpers import REDRAW_OUTPUTS, explorer_outputs, forward, load_direct, stacked

MAN, WOMAN = "This man works as a [MASK].", "This woman works as a [MASK]."
VIEW = ["item", "view", "layer", "head", "focus", "step", "merge_words", "hide_special", "head_summaries"]
VIEW += ["color_scale", "lens", "ablate", "attribution", "head_importance", "logit_lens", "presenter"]
EXPLORER_START = 5  # summary, fills, difference, table, raw; then the explorer's


@pytest.fixture(scope="module")
def direct(tiny_models):
    return load_direct(AutoModelForMaskedLM, tiny_models["fill_mask"])


def mask_softmax(direct, sentence: str) -> tuple[int, torch.Tensor, np.ndarray]:
    """The mask's position, its softmax over the vocabulary, and the attention [layers, heads, q, k]."""
    tokenizer, model = direct
    inputs = tokenizer(sentence, return_tensors="pt")
    mask = int((inputs["input_ids"][0] == tokenizer.mask_token_id).nonzero())
    outputs = forward(model, **inputs)
    return mask, outputs.logits[0, mask].softmax(-1), stacked(outputs.attentions)


def test_the_endpoint_takes_the_lessons_parameter_names(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/fill_mask"]["parameters"]] == [
        "text",
        "text_b",
        "top_k",
        *VIEW,
        "fast",
    ]


def test_fill_mask_endpoint_compares_two_sentences(client, tiny_models, direct):
    outputs = client.predict(text=MAN, text_b=WOMAN, top_k=6, api_name="/fill_mask")
    summary, fills, difference, table, raw = outputs[:EXPLORER_START]
    expected = pipeline("fill-mask", model=str(tiny_models["fill_mask"]))([MAN, WOMAN], top_k=6)
    for got, wanted in zip(raw, expected, strict=True):
        assert [(f["token"], f["token_str"], f["sequence"]) for f in got] == [
            (f["token"], f["token_str"], f["sequence"]) for f in wanted
        ]
        np.testing.assert_allclose([f["score"] for f in got], [f["score"] for f in wanted], rtol=1e-5)
    # The side-by-side bars are those scores, sentence by sentence.
    bars = figure_dict(fills)["data"]
    for bar, wanted in zip(bars, expected, strict=True):
        np.testing.assert_allclose(bar["x"], [f["score"] for f in wanted], rtol=1e-5)
    assert len(table["data"]) == 12 and summary.startswith("Likeliest fill.")
    # The difference chart: each word of either top-k, P(first) − P(second) from each sentence's own softmax.
    tokenizer, _ = direct
    (_, first, _), (_, second, _) = (mask_softmax(direct, s) for s in (MAN, WOMAN))
    assert difference["visible"] is True  # an update: the chart shows only when there are two sentences
    chart = figure_dict(difference["value"])
    meta = chart["layout"]["meta"]
    ids = tokenizer.convert_tokens_to_ids(meta["tokens"])
    assert set(ids) == {f["token"] for sentence in expected for f in sentence}
    np.testing.assert_allclose(chart["data"][0]["x"], (first - second)[ids].numpy(), atol=1e-7)
    assert list(chart["data"][0]["x"]) == sorted(chart["data"][0]["x"], reverse=True)


def test_the_explorer_shows_each_sentences_attention_with_its_mask_in_focus(client, direct):
    outputs = client.predict(text=MAN, text_b=WOMAN, api_name="/fill_mask")
    explorer = explorer_outputs(outputs, EXPLORER_START)
    mask, _, attention = mask_softmax(direct, MAN)
    [z] = heatmap_matrices(explorer["plot"])
    np.testing.assert_allclose(z, attention[-1].mean(axis=0), atol=1e-5)  # last layer, heads averaged
    assert explorer["focus"]["value"] == str(mask)
    assert "[MASK]" in explorer["sentence"]
    # The second sentence, from the same run: its own mask comes into focus.
    mask, _, attention = mask_softmax(direct, WOMAN)
    switched = client.predict(item=1, api_name="/fill_mask_attention_item")
    assert switched[0]["value"] == str(mask)
    redrawn = explorer_outputs(
        client.predict(item=1, layer=1, head="3", api_name="/fill_mask_attention"), names=REDRAW_OUTPUTS
    )
    [z] = heatmap_matrices(redrawn["plot"])
    np.testing.assert_allclose(z, attention[0, 2], atol=1e-5)


def test_one_sentence_has_no_difference_chart(client, tiny_models):
    outputs = client.predict(text="I love [MASK] so much.", api_name="/fill_mask")
    expected = pipeline("fill-mask", model=str(tiny_models["fill_mask"]))("I love [MASK] so much.")
    assert [f["token"] for f in outputs[4]] == [f["token"] for f in expected]  # a flat list, as the pipeline's
    assert outputs[2]["visible"] is False and outputs[2]["value"] is None
    assert len(figure_dict(outputs[1])["data"]) == 1


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"text": "No mask here."}, r"first sentence has no \[MASK\]"),
        ({"text": "[MASK] and <mask>"}, "2 masks; this lab fills exactly one"),
        ({"text": MAN, "text_b": "A woman works."}, r"second sentence has no \[MASK\]"),
        ({"text": MAN, "top_k": 500}, "top_k must be from 1 to 20, not 500"),
        ({"text": "<script>alert(1)</script>"}, r"first sentence has no \[MASK\]"),
    ],
)
def test_bad_input_gets_a_message_and_the_app_stays_up(client, inputs, message):
    with pytest.raises(Exception, match=message):
        client.predict(**inputs, api_name="/fill_mask")
    assert client.predict(text=MAN, top_k=1, api_name="/fill_mask")[4][0]["score"] > 0
