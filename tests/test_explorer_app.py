"""The attention explorer through the API, on the real all-MiniLM-L6-v2 BERT (6 layers x 12 heads)."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from transformers import AutoModel

from services.tokens import token_axis
from tests.app_server import serving
from tests.figures import decode_array, figure_dict, heatmap_matrices
from tests.helpers import REDRAW_OUTPUTS, explorer_outputs, forward, load_direct, stacked

ANIMAL = "The animal didn't cross the street because it was unbelievably tired"
BUDGET = 1_000_000  # bytes per response


@pytest.fixture(scope="module")
def minilm_client(minilm_path):
    with serving({"PLAYGROUND_ATTENTION_MODEL": str(minilm_path)}) as client:
        yield client


@pytest.fixture(scope="module")
def direct(minilm_path):
    tokenizer, model = load_direct(AutoModel, minilm_path)
    inputs = tokenizer(ANIMAL, return_tensors="pt")
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    return tokens, stacked(forward(model, **inputs).attentions)


def attend(client, model, **settings):
    outputs = client.predict(text=ANIMAL, text_pair="", model=str(model), api_name="/attention", **settings)
    return explorer_outputs(outputs, 2)


def test_the_focus_sentence_names_the_token_it_attends_most_and_the_weight(minilm_client, minilm_path, direct):
    tokens, weights = direct
    explored = attend(minilm_client, minilm_path, layer=5, head="3", focus="it")
    row = weights[4, 2, tokens.index("it")]
    best = int(row.argmax())
    assert explored["sentence"] == f"'it' attends most to '{tokens[best]}' ({row[best]:.2f}) in layer 5, head 3."
    bars = figure_dict(explored["focus_plot"])["data"][0]
    np.testing.assert_allclose(decode_array(bars["y"]), row, atol=1e-5)
    z = heatmap_matrices(explored["plot"])[0]
    np.testing.assert_allclose(z, weights[4, 2], atol=1e-5)


def test_words_and_hidden_special_tokens_match_numpy(minilm_client, minilm_path, direct):
    tokens, weights = direct
    attend(minilm_client, minilm_path)
    redraw = minilm_client.predict(
        layer=2, head="max", focus="unbelievably", merge_words=True, hide_special=True, api_name="/attention_view"
    )
    explored = explorer_outputs(redraw, names=REDRAW_OUTPUTS)
    # Words by WordPiece's rule, without [CLS] and [SEP]: "un ##bel ##ie ##va ##bly" is one word.
    words: list[list[int]] = []
    for i, token in enumerate(tokens[1:-1], start=1):
        if token.startswith("##"):
            words[-1].append(i)
        else:
            words.append([i])
    expected = np.zeros((weights.shape[1], len(words), len(words)), dtype=np.float32)
    for h in range(weights.shape[1]):
        kept = weights[1, h][:, 1:-1] / weights[1, h][:, 1:-1].sum(axis=-1, keepdims=True)
        for r, row_word in enumerate(words):
            for c, col_word in enumerate(words):
                expected[h, r, c] = np.mean([sum(kept[q, k - 1] for k in col_word) for q in row_word])
    np.testing.assert_allclose(heatmap_matrices(explored["plot"])[0], expected.max(axis=0), atol=1e-5)
    long_word = next(i for i, word in enumerate(words) if len(word) == 5)
    assert figure_dict(explored["plot"])["layout"]["meta"]["row_labels"][long_word] == "unbelievably"
    row = expected.max(axis=0)[long_word]
    assert explored["sentence"].startswith("'unbelievably' attends most to")
    assert f"({row.max():.2f}) in layer 2, max over heads." in explored["sentence"]


def test_unknown_layer_or_head_gets_a_clear_message(minilm_client, minilm_path):
    with pytest.raises(Exception, match="Layer 7 does not exist; this model has layers 1 to 6"):
        attend(minilm_client, minilm_path, layer=7)
    with pytest.raises(Exception, match="Head 13 does not exist; this model has heads 1 to 12"):
        attend(minilm_client, minilm_path, head="13")
    with pytest.raises(Exception, match="Head must be 'mean', 'max' or a number"):
        minilm_client.predict(head="first", api_name="/attention_view")


def test_every_view_of_512_tokens_stays_under_1_mb_with_float32_arrays(minilm_client, minilm_path):
    text = " ".join(["the teacher explained how attention heads share their weights"] * 80)
    sizes = {}
    for view in ("heatmap", "heads", "model"):
        outputs = minilm_client.predict(
            text=text, text_pair="", model=str(minilm_path), view=view, head_summaries=True, api_name="/attention"
        )
        explored = explorer_outputs(outputs, 2)
        sizes[view] = len(json.dumps(outputs))
        assert sizes[view] <= BUDGET, sizes
        for name in ("plot", "focus_plot", "summary"):
            for trace in figure_dict(explored[name])["data"]:
                for key in ("z", "y"):
                    if isinstance(trace.get(key), dict):
                        assert trace[key]["dtype"] == "f4"
    assert len(outputs[1]["tokens"]) == 512
    # The heatmap keeps full resolution: a window of rows around the token in focus.
    explored = explorer_outputs(
        minilm_client.predict(text=text, text_pair="", model=str(minilm_path), focus="400", api_name="/attention"),
        2,
    )
    z = heatmap_matrices(explored["plot"])[0]
    meta = figure_dict(explored["plot"])["layout"]["meta"]
    assert z.shape[1] == 512 and z.shape[0] < 512
    assert meta["row_start"] <= 400 < meta["row_start"] + z.shape[0]


def test_export_writes_the_matrix_as_csv_json_and_html(minilm_client, minilm_path, direct):
    tokens, weights = direct
    attend(minilm_client, minilm_path)
    update = minilm_client.predict(layer=3, head="mean", api_name="/attention_view_export")
    assert update["visible"] is True  # the downloads box appears only once there is something in it
    paths = update["value"]
    by_suffix = {os.path.splitext(path)[1]: path for path in paths}
    with open(by_suffix[".csv"], newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    # The rows and columns are labelled as a person reads the tokens: 'bel', not the raw piece '##bel'.
    tokenizer, _ = load_direct(AutoModel, minilm_path)
    texts = list(token_axis(tokenizer, tokenizer(ANIMAL)["input_ids"]).texts)
    assert len(texts) == len(tokens) and "##bel" in tokens and "bel" in texts
    assert rows[0][1:] == texts and [row[0] for row in rows[1:]] == texts
    np.testing.assert_allclose(np.array([row[1:] for row in rows[1:]], dtype=float), weights[2].mean(0), atol=1e-6)
    with open(by_suffix[".json"], encoding="utf-8") as file:
        exported = json.load(file)
    assert exported["layer"] == 3 and exported["head"] == "mean"
    np.testing.assert_allclose(exported["weights"], weights[2].mean(0), atol=1e-6)
    with open(by_suffix[".html"], encoding="utf-8") as file:
        assert "plotly" in file.read(200_000).lower()


def test_what_is_inside_lists_the_tokens_ids_and_the_architecture(minilm_client, minilm_path):
    tokenizer, model = load_direct(AutoModel, minilm_path)
    explored = attend(minilm_client, minilm_path)
    ids = tokenizer(ANIMAL)["input_ids"]
    table = explored["tokens"]["data"]
    assert [row[2] for row in table] == tokenizer.convert_ids_to_tokens(ids)
    assert [row[3] for row in table] == ids
    assert [row[1] for row in table if row[4] == "yes"] == [0, len(ids) - 1]  # [CLS] and [SEP]
    parameters = sum(p.numel() for p in model.parameters())
    inside = explored["inside"]
    for fact in ("`BertModel`", "encoder-only", "6 layers", "12 attention heads", "hidden size 384", "at most 512"):
        assert fact in inside
    assert f"{parameters / 1e6:,.1f} M parameters" in inside


def test_head_summaries_are_drawn_only_when_asked(minilm_client, minilm_path, direct):
    _tokens, weights = direct
    assert attend(minilm_client, minilm_path)["summary"] == {"__type__": "update"}  # skipped: accordion closed
    summary = figure_dict(attend(minilm_client, minilm_path, head_summaries=True)["summary"])
    by_metric = {trace["hovertemplate"].split("</b>")[0].removeprefix("<b>"): trace for trace in summary["data"]}
    entropy = decode_array(by_metric["entropy (bits)"]["z"])
    safe = np.where(weights > 0, weights, 1.0)
    np.testing.assert_allclose(entropy, -(weights * np.log2(safe)).sum(-1).mean(-1), atol=1e-4)
    opened = minilm_client.predict(api_name="/attention_view_summaries")
    assert opened[0] is True and figure_dict(opened[1])["data"]
