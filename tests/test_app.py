"""Every endpoint through gradio_client, against the app launched here and configured by the
environment, with its numbers and plots compared to transformers computed directly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradio_client import Client
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    pipeline,
)

from services.config import short_name
from services.tokens import token_axis
from tests.app_server import TINY_TRANSLATION_TOKENS
from tests.figures import figure_dict, heatmap_matrices
from tests.helpers import REDRAW_OUTPUTS, explorer_outputs, forward, load_direct, stacked

ATOL = 1e-5


def test_the_api_names_and_parameters_are_the_contract(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = {name: [p["parameter_name"] for p in spec["parameters"]] for name, spec in endpoints.items()}
    view = ["item", "view", "layer", "head", "focus", "step", "merge_words", "hide_special", "head_summaries"]
    view += ["color_scale", "lens", "ablate", "attribution", "head_importance", "logit_lens", "presenter"]
    assert params["/sentiment"] == ["text", *view, "fast"]
    assert params["/attention"] == ["text", "text_pair", "model", "compare_architectures", *view, "fast"]
    assert params["/attention_view"] == view
    encoder = [f"encoder_{name}" for name in view[:-1]]  # the page's presenter switch is shared
    assert params["/translate"][-len(encoder) - 1 :] == [*encoder, "fast"]
    assert params["/zero_shot"][:4] == [
        "text",
        "labels",
        "multi_label",
        "hypothesis_template",
    ]
    assert params["/generate"][:7] == [
        "prompt",
        "max_new_tokens",
        "do_sample",
        "temperature",
        "top_p",
        "top_k",
        "seed",
    ]
    assert params["/translate"][:3] == ["text", "target_language", "num_beams"]
    assert params["/attention"][0] == "text"


def test_sentiment_endpoint(client, tiny_models):
    source = str(tiny_models["sentiment"])
    texts = ["I'm so hungry man.", "I love food so much."]
    outputs = client.predict(text="\n".join(texts), api_name="/sentiment")
    note, table, bars, raw = outputs[:4]
    plot = explorer_outputs(outputs, 4)["plot"]
    expected = pipeline("text-classification", model=source)(texts)
    assert [item["label"] for item in raw] == [item["label"] for item in expected]
    np.testing.assert_allclose([item["score"] for item in raw], [item["score"] for item in expected], atol=1e-6)
    assert [row[1] for row in table["data"]] == [item["label"] for item in raw]
    assert bars is None  # its panel is closed: drawn when opened
    opened = figure_dict(client.predict(api_name="/sentiment_bars"))
    assert len(opened["data"]) == 2  # both class probabilities
    drawn = {trace["name"]: trace["x"] for trace in opened["data"]}
    for i, item in enumerate(expected):
        assert drawn[item["label"]][i] == pytest.approx(item["score"], abs=1e-6)
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    expected = stacked(forward(model, **tokenizer(texts[0], return_tensors="pt")).attentions)
    [z] = heatmap_matrices(plot)
    np.testing.assert_allclose(z, expected[-1].mean(axis=0), atol=ATOL)  # default: last layer, mean of heads
    # Another text, layer and head, from the same run, without running the model again.
    redrawn = client.predict(item=1, layer=1, head="2", api_name="/sentiment_attention")
    [z] = heatmap_matrices(explorer_outputs(redrawn, names=REDRAW_OUTPUTS)["plot"])
    expected = stacked(forward(model, **tokenizer(texts[1], return_tensors="pt")).attentions)
    np.testing.assert_allclose(z, expected[0, 1], atol=ATOL)
    assert note == ""


def test_zero_shot_endpoint(client, tiny_models):
    source = str(tiny_models["zero_shot"])
    text, labels = (
        "History isn't really a fun class",
        ["education", "politics", "business"],
    )
    outputs = client.predict(
        text=text,
        labels=", ".join(labels),
        multi_label=True,
        hypothesis_template="This text is about {}.",
        api_name="/zero_shot",
    )
    _note, bars, nli, raw = outputs[:4]
    plot = explorer_outputs(outputs, 4)["plot"]
    expected = pipeline("zero-shot-classification", model=source)(
        text, labels, multi_label=True, hypothesis_template="This text is about {}."
    )
    assert raw["labels"] == expected["labels"] and raw["sequence"] == text
    np.testing.assert_allclose(raw["scores"], expected["scores"], atol=1e-6)
    assert [bar for bar in figure_dict(bars)["data"][0]["y"]] == expected["labels"]
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    pair = tokenizer(text, f"This text is about {expected['labels'][0]}.", return_tensors="pt")
    [z] = heatmap_matrices(plot)
    out = forward(model, **pair)
    np.testing.assert_allclose(z, stacked(out.encoder_attentions)[-1].mean(axis=0), atol=ATOL)
    # Each label's entailment / neutral / contradiction, from its own pair's logits.
    probabilities = out.logits.softmax(-1)[0].tolist()
    assert nli is None  # its panel is closed: drawn when opened
    opened = client.predict(api_name="/zero_shot_nli")
    bars_by_class = {trace["name"]: trace["x"] for trace in figure_dict(opened)["data"]}
    for index, name in model.config.id2label.items():
        assert bars_by_class[name][0] == pytest.approx(probabilities[index], abs=1e-6)


def test_generate_endpoint_greedy_equals_the_pipeline(client, tiny_models):
    source = str(tiny_models["generation"])
    prompt = "So today, I just feel like"
    outputs = client.predict(
        prompt=prompt,
        max_new_tokens=8,
        do_sample=False,
        temperature=1.0,
        top_p=1.0,
        top_k=50,
        seed=0,
        api_name="/generate",
    )
    text, raw = outputs[:2]
    explored = explorer_outputs(outputs, 2)
    plot = explored["plot"]
    expected = pipeline("text-generation", model=source)(prompt, max_new_tokens=8, do_sample=False)
    assert raw == expected and text == expected[0]["generated_text"]
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    ids = model.generate(**tokenizer(prompt, return_tensors="pt"), max_new_tokens=8, do_sample=False)
    [z] = heatmap_matrices(plot)
    np.testing.assert_allclose(z, stacked(forward(model, input_ids=ids).attentions)[-1].mean(axis=0), atol=ATOL)
    # Labels are the tokens as a person reads them ("today", not the raw piece "Ġtoday").
    texts = token_axis(tokenizer, ids[0].tolist()).texts
    assert figure_dict(plot)["layout"]["meta"]["row_labels"] == list(texts)
    # Step 1 by default: the chosen token is marked among the next-token candidates.
    prompt_length = len(tokenizer(prompt)["input_ids"])
    chosen = texts[prompt_length]
    assert explored["sentence"].startswith(f"Step 1 writes '{chosen}'")
    assert explored["focus"]["value"] == str(prompt_length - 1)
    layout = json.dumps(figure_dict(explored["top_plot"]["value"])["layout"], ensure_ascii=False)
    assert "(▶ chosen)" in layout and f"▶ {chosen.strip()}" in layout
    # The step slider moves the focus to the row that chose step 2's token.
    moved = explorer_outputs(client.predict(step=2, api_name="/generate_attention_step"), names=REDRAW_OUTPUTS)
    second = texts[prompt_length + 1]
    assert moved["sentence"].startswith(f"Step 2 writes '{second}'")
    assert moved["focus"]["value"] == str(prompt_length)


def test_generate_endpoint_streams(client):
    job = client.submit(prompt="I love food", max_new_tokens=12, api_name="/generate")
    final = job.result()
    streamed = [output[0] for output in job.outputs()]
    assert len(streamed) > 2 and streamed[-1] == final[0]


def test_translate_endpoint_and_its_cross_attention(client, tiny_models):
    source = tiny_models["translation_de"]
    text = "I am a student"
    outputs = client.predict(text=text, target_language="German", num_beams=1, api_name="/translate")
    _note, translated, raw = outputs[:3]
    cross_plot = explorer_outputs(outputs, 3)["plot"]
    encoder_plot = explorer_outputs(outputs, 3 + 13)["plot"]
    tokenizer, model = load_direct(AutoModelForSeq2SeqLM, source)
    inputs = tokenizer(text, return_tensors="pt")
    # Greedy, the app's default, up to the tests' cap on a translation's tokens.
    produced = model.generate(**inputs, max_new_tokens=TINY_TRANSLATION_TOKENS, num_beams=1)[0]
    assert raw == [{"translation_text": tokenizer.decode(produced, skip_special_tokens=True)}]
    assert translated == raw[0]["translation_text"]
    out = forward(model, **inputs, decoder_input_ids=produced[None])
    [z] = heatmap_matrices(cross_plot)
    np.testing.assert_allclose(z, stacked(out.cross_attentions)[-1].mean(axis=0), atol=ATOL)
    assert z.shape == (
        len(produced),
        inputs["input_ids"].shape[-1],
    )  # target tokens x source tokens
    [z] = heatmap_matrices(encoder_plot)
    np.testing.assert_allclose(z, stacked(out.encoder_attentions)[-1].mean(axis=0), atol=ATOL)


def test_attention_endpoint_with_a_pair_layer_and_head(client, tiny_models):
    source = tiny_models["attention"]
    text, pair = (
        "She is eating a green apple",
        "She bought the apple from the local market.",
    )
    outputs = client.predict(text=text, text_pair=pair, api_name="/attention")
    _note, raw = outputs[:2]
    plot = explorer_outputs(outputs, 2)["plot"]
    tokenizer, model = load_direct(AutoModel, source)
    inputs = tokenizer(text, pair, return_tensors="pt")
    expected = stacked(forward(model, **inputs).attentions)
    assert raw["tokens"] == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    assert (raw["num_layers"], raw["num_heads"]) == expected.shape[:2]
    np.testing.assert_allclose(heatmap_matrices(plot)[0], expected[-1].mean(axis=0), atol=ATOL)
    redraw = explorer_outputs(client.predict(layer=1, head="3", api_name="/attention_view"), names=REDRAW_OUTPUTS)
    np.testing.assert_allclose(heatmap_matrices(redraw["plot"])[0], expected[0, 2], atol=ATOL)
    redraw = explorer_outputs(client.predict(view="heads", layer=1, api_name="/attention_view"), names=REDRAW_OUTPUTS)
    np.testing.assert_allclose(np.stack(heatmap_matrices(redraw["plot"])), expected[0], atol=ATOL)
    redraw = explorer_outputs(client.predict(view="model", api_name="/attention_view"), names=REDRAW_OUTPUTS)
    np.testing.assert_allclose(
        np.stack(heatmap_matrices(redraw["plot"])), expected.reshape(-1, *expected.shape[2:]), atol=ATOL
    )


def test_attention_endpoint_offers_the_other_tabs_models(client, tiny_models):
    _note, raw, *_ = client.predict(text="I love food", model=str(tiny_models["generation"]), api_name="/attention")
    assert raw["model"] == short_name(str(tiny_models["generation"]))  # no server paths
    with pytest.raises(Exception, match=r"not in the list of choices|not one of this app's models"):
        client.predict(text="I love food", model="some-user/any-model", api_name="/attention")


def test_fast_mode_over_the_api_answers_with_the_attention_of_the_fast_model(client, tiny_models):
    outputs = client.predict(text="I love food so much.", fast=True, api_name="/sentiment")
    raw, explored = outputs[3], explorer_outputs(outputs, 4)
    assert raw[0]["label"] in {"NEGATIVE", "POSITIVE"}
    z = heatmap_matrices(explored["plot"])[0]
    np.testing.assert_allclose(z.sum(axis=-1), 1.0, atol=1e-2)


def test_concurrent_sentiment_visitors_each_get_their_own_answer_or_error(client, tiny_models):
    texts = ["I love food so much.", "I'm so hungry man.", "   ", "History isn't fun.\nRain again.", "Great!"]
    # A session of their own each: one session may hold only a few places in the queue.
    jobs = [Client(client.src, verbose=False).submit(text=text, api_name="/sentiment") for text in texts]
    expected = pipeline("text-classification", model=str(tiny_models["sentiment"]))
    for text, job in zip(texts, jobs, strict=True):
        if not text.strip():
            with pytest.raises(Exception, match="The text is empty"):
                job.result()
            continue
        outputs = job.result()
        _note, _table, _bars, raw = outputs[:4]
        lines = text.splitlines()
        assert [item["label"] for item in raw] == [item["label"] for item in expected(lines)]
        np.testing.assert_allclose([i["score"] for i in raw], [i["score"] for i in expected(lines)], atol=1e-5)
        assert explorer_outputs(outputs, 4)["item"]["choices"][0][0] == lines[0][:40]
