"""Each lens parameter of the main endpoints through gradio_client, against the app launched here, and the
lens event a visitor's chooser fires; numbers compared with hooks and captum's own results."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

from components.explorer.lens_controls import JSON_OUTPUTS
from services import sentiment
from services.lenses import attribution
from tests.figures import figure_dict, heatmap_matrices
from tests.helpers import REDRAW_OUTPUTS, explorer_outputs, load_direct
from tests.lens_reference import zeroed

TEXT = "I love food so much."
GREEDY = {"max_new_tokens": 5, "do_sample": False, "temperature": 1.0, "top_p": 1.0, "top_k": 50, "seed": 0}


def lenses_of(outputs, explorer: int = 0, explorers: int = 1) -> dict:
    """The lens JSON outputs, by lens, of the tab's explorer `explorer`: the last of every endpoint's outputs."""
    start = len(outputs) - len(JSON_OUTPUTS) * (explorers - explorer)
    return dict(zip(JSON_OUTPUTS, outputs[start : start + len(JSON_OUTPUTS)], strict=True))


def test_sentiment_attribution_keeps_the_outputs_and_adds_integrated_gradients(client, tiny_models):
    source = str(tiny_models["sentiment"])
    texts = [TEXT, "I'm so hungry man."]
    outputs = client.predict(text="\n".join(texts), attribution=True, api_name="/sentiment")
    plain = client.predict(text="\n".join(texts), api_name="/sentiment")
    assert outputs[3] == plain[3] and len(outputs) == len(plain) == 4 + 13 + 4  # what was there, in its place
    found = lenses_of(outputs)
    assert found["knock_out"] is None and found["head_importance"] is None and found["logit_lens"] is None
    assert [item["target"] for item in found["attribution"]] == [item["label"] for item in outputs[3]]
    for text, item in zip(texts, found["attribution"], strict=True):
        [prediction] = sentiment.classify([text], model=source)
        expected = attribution.attribute(prediction.attention.recipe, max_seconds=600, max_bytes=10**9)
        assert item["method"] == "integrated_gradients" and item["tokens"] == list(expected.axis.tokens)
        np.testing.assert_allclose(item["scores"], expected.scores[0], atol=1e-6)
        assert item["delta"] == pytest.approx(expected.delta, abs=1e-6)
    assert lenses_of(plain)["attribution"] is None


def test_sentiment_ablate_describes_the_knocked_out_run(client, tiny_models):
    outputs = client.predict(text=TEXT, ablate="2.3, 1.1", api_name="/sentiment")
    tokenizer, model = load_direct(AutoModelForSequenceClassification, tiny_models["sentiment"])
    with torch.no_grad(), zeroed(model, [(2, 3), (1, 1)]):
        probabilities = torch.softmax(model(**tokenizer(TEXT, return_tensors="pt")).logits[0], -1)
    best = int(probabilities.argmax())
    [raw] = outputs[3]
    assert raw["label"] == model.config.id2label[best] and raw["score"] == pytest.approx(float(probabilities[best]))
    [ablation] = lenses_of(outputs)["knock_out"]
    assert ablation["heads"] == ["2.3", "1.1"] and ablation["knocked_out"]["answer"] == raw["label"]
    redraw = explorer_outputs(client.predict(layer=2, head="3", api_name="/sentiment_attention"), names=REDRAW_OUTPUTS)
    assert np.all(heatmap_matrices(redraw["plot"])[0] == 0.0)  # the knocked-out head's heatmap shows zeros
    with pytest.raises(Exception, match=r"Heads to knock out: head 9 does not exist; this model has heads 1 to 4"):
        client.predict(text=TEXT, ablate="1.9", api_name="/sentiment")


def test_zero_shot_head_importance(client):
    outputs = client.predict(
        text="History isn't really a fun class",
        labels="education, politics",
        head_importance=True,
        api_name="/zero_shot",
    )
    found = lenses_of(outputs)["head_importance"]
    assert found["target"] == outputs[3]["labels"][0] and found["probability"] == pytest.approx(outputs[3]["scores"][0])
    assert (found["layers"], found["heads"]) == (2, 4) and np.asarray(found["change"]).shape == (2, 4)


def test_generate_logit_lens_last_layer_is_the_greedy_token(client, tiny_models):
    outputs = client.predict(prompt="So today", **GREEDY, logit_lens=True, attribution=True, api_name="/generate")
    found = lenses_of(outputs)
    tokenizer, model = load_direct(AutoModelForCausalLM, tiny_models["generation"])
    ids = model.generate(**tokenizer("So today", return_tensors="pt"), max_new_tokens=5, do_sample=False)[0]
    written = tokenizer.convert_ids_to_tokens(ids[-5:])
    assert found["logit_lens"]["layers"] == 2
    assert [step["token"] for step in found["logit_lens"]["steps"]] == written
    assert [step["per_layer"][-1]["token"] for step in found["logit_lens"]["steps"]] == written
    assert found["attribution"]["method"] == "gradient_x_input" and found["attribution"]["targets"] == written
    assert np.asarray(found["attribution"]["scores"]).shape == (5, len(ids) - 1)
    with pytest.raises(Exception, match="The logit lens reads a decoder's layers as it writes"):
        client.predict(text=TEXT, logit_lens=True, api_name="/sentiment")


def test_translate_attribution_and_both_attentions_knocked_out(client):
    outputs = client.predict(
        text="You like this house",
        target_language="French",
        num_beams=1,
        attribution=True,
        ablate="1.1",
        encoder_ablate="2.2",
        api_name="/translate",
    )
    cross, encoder = lenses_of(outputs, 0, 2), lenses_of(outputs, 1, 2)
    assert cross["attribution"]["method"] == "gradient_x_input"
    assert cross["knock_out"]["heads"] == ["1.1"] and cross["knock_out"]["also_knocked_out"] == {
        "self_attention": ["2.2"]
    }
    assert encoder["knock_out"]["heads"] == ["2.2"] and encoder["attribution"] is None
    assert cross["knock_out"]["knocked_out"]["answer"] == outputs[1]  # the usual outputs are the knocked-out run's


def test_the_lens_chooser_computes_on_the_stored_run(client):
    client.predict(text=TEXT, api_name="/sentiment")
    drawn = explorer_outputs(
        client.predict(lens="attribution", api_name="/sentiment_attention_lens"), names=REDRAW_OUTPUTS
    )
    assert "favour" in drawn["sentence"] and "convergence delta" in drawn["sentence"]
    assert figure_dict(drawn["plot"])["data"][0]["type"] == "bar"
    # A redraw with another control draws it from the store, without running the model.
    again = explorer_outputs(
        client.predict(lens="attribution", merge_words=True, api_name="/sentiment_attention"), names=REDRAW_OUTPUTS
    )
    assert "favour" in again["sentence"]
    drawn = explorer_outputs(
        client.predict(lens="head_importance", api_name="/sentiment_attention_lens"), names=REDRAW_OUTPUTS
    )
    assert drawn["sentence"].startswith("Knocked out alone,")
    with pytest.raises(Exception, match="Logit lens is not offered here"):
        client.predict(lens="logit_lens", api_name="/sentiment_attention_lens")
