"""Three architectures, one sentence: each panel equals transformers called directly on the same model
(last layer, mean over heads), the masks hide exactly what each family may not see, and a family that
fails leaves the others. The figures are checked on synthetic arrays."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM

from components.explorer.figures import MASKED_COLOR, color_range, masked_heatmap
from services.architectures import DECODER, ENCODER, ENCODER_DECODER, SEES, Failed, Panel, Trio, causal, compare
from tests.app_server import TINY_TRANSLATION_TOKENS, playground_env, serving
from tests.figures import decode_array, figure_dict, heatmap_matrices
from tests.helpers import EXPLORER_OUTPUTS, explorer_outputs, forward, load_direct

ATOL = 1e-5
TEXT = "The animal didn't cross the street because it was too tired"


def trio_of(tiny_models, **overrides) -> Trio:
    models = {
        "encoder": str(tiny_models["attention"]),
        "decoder": str(tiny_models["generation"]),
        "encoder_decoder": str(tiny_models["translation_fr"]),
        "target_language": "French",
    }
    return Trio(**(models | overrides))


def last_mean(attentions) -> np.ndarray:
    """Per-layer [1, heads, q, k] tensors -> the last layer averaged over heads, [q, k]."""
    return attentions[-1][0].float().mean(dim=0).numpy()


def upper(n: int, k: int = 1) -> np.ndarray:
    return np.triu(np.ones((n, n), dtype=bool), k=k)


@pytest.fixture(scope="module")
def comparison(tiny_models):
    trio = trio_of(tiny_models)
    return compare(TEXT, trio, max_tokens=64, max_new_tokens=TINY_TRANSLATION_TOKENS)


def test_the_panels_come_in_order_encoder_decoder_encoder_decoder(comparison):
    assert [panel.family for panel in comparison.panels] == [ENCODER, DECODER, ENCODER_DECODER]
    assert all(isinstance(panel, Panel) for panel in comparison.panels)


def direct(tiny_models, text: str = TEXT, max_new_tokens: int = TINY_TRANSLATION_TOKENS) -> dict[str, dict]:
    """Each family computed with transformers directly: its rows' and columns' tokens, its last layer averaged
    over heads (NaN where the model gave exactly 0 because its mask hides the key), and what it gave there."""
    tokenizer, model = load_direct(AutoModel, tiny_models["attention"])
    inputs = tokenizer(text, return_tensors="pt")
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    encoder = {"tokens": tokens, "key_tokens": tokens, "matrix": last_mean(forward(model, **inputs).attentions)}
    tokenizer, model = load_direct(AutoModelForCausalLM, tiny_models["generation"])
    inputs = tokenizer(text, return_tensors="pt")
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    weights = last_mean(forward(model, **inputs).attentions)
    decoder = {"tokens": tokens, "key_tokens": tokens, "matrix": masked(weights), "hidden": weights[upper(len(tokens))]}
    tokenizer, model = load_direct(AutoModelForSeq2SeqLM, tiny_models["translation_fr"])
    inputs = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        produced = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=1, do_sample=False)[0]
    out = forward(model, **inputs, decoder_input_ids=produced[None])
    target = tokenizer.convert_ids_to_tokens(produced)
    own = last_mean(out.decoder_attentions)
    encoder_decoder = {
        "tokens": target,
        "key_tokens": [*tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]), *target],
        "matrix": np.hstack([last_mean(out.cross_attentions), masked(own)]),
        "hidden": own[upper(len(target))],
        "translation_text": tokenizer.decode(produced, skip_special_tokens=True),
        "source_columns": inputs["input_ids"].shape[1],
    }
    return {ENCODER: encoder, DECODER: decoder, ENCODER_DECODER: encoder_decoder}


def masked(matrix: np.ndarray) -> np.ndarray:
    """NaN above the diagonal, written here independently of the service's own `causal`."""
    n = matrix.shape[0]
    return np.where(np.tril(np.ones((n, n), dtype=bool)), matrix, np.nan).astype(np.float32)


@pytest.fixture(scope="module")
def expected(tiny_models):
    return direct(tiny_models)


def assert_same(matrix: np.ndarray, expected: np.ndarray) -> None:
    """Equal weights, and NaN (masked) in exactly the same cells."""
    np.testing.assert_array_equal(np.isnan(matrix), np.isnan(expected))
    np.testing.assert_allclose(matrix, expected, atol=ATOL)  # NaNs compare equal in place


@pytest.mark.parametrize("family", [ENCODER, DECODER, ENCODER_DECODER])
def test_each_panel_equals_its_model_called_directly_last_layer_mean_over_heads(comparison, expected, family):
    panel = next(panel for panel in comparison.panels if panel.family == family)
    want = expected[family]
    assert list(panel.query.tokens) == want["tokens"]
    assert list(panel.key_tokens) == want["key_tokens"]
    assert_same(panel.matrix, want["matrix"])
    if "hidden" in want:  # what the mask hides, the model itself gave 0
        np.testing.assert_allclose(want["hidden"], 0.0, atol=1e-7)


def test_an_encoder_sees_everything_a_decoder_only_its_left(comparison):
    encoder, decoder, encoder_decoder = (panel.matrix for panel in comparison.panels)
    assert not np.isnan(encoder).any()
    n = decoder.shape[0]
    assert np.isnan(decoder[upper(n)]).all() and not np.isnan(decoder[~upper(n)]).any()
    source = comparison.panels[2].source_columns
    assert not np.isnan(encoder_decoder[:, :source]).any()  # the whole source
    target = encoder_decoder[:, source:]
    assert np.isnan(target[upper(len(target))]).all() and not np.isnan(target[~upper(len(target))]).any()


def test_the_encoder_decoder_reads_its_own_greedy_translation_each_half_a_distribution(comparison, expected):
    panel, want = comparison.panels[2], expected[ENCODER_DECODER]
    assert panel.translation_text == want["translation_text"]
    assert panel.source_columns == want["source_columns"]
    np.testing.assert_allclose(panel.matrix[:, : panel.source_columns].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.nansum(panel.matrix[:, panel.source_columns :], axis=1), 1.0, atol=1e-5)


def test_the_raw_output_gives_each_familys_model_tokens_and_matrix_with_null_where_masked(comparison):
    raw = comparison.as_raw_output()
    assert [entry["family"] for entry in raw] == [ENCODER, DECODER, ENCODER_DECODER]
    for entry, panel in zip(raw, comparison.panels, strict=True):
        assert entry["tokens"] == list(panel.query.tokens)
        assert entry["key_tokens"] == list(panel.key_tokens)
        matrix = np.array([[np.nan if w is None else w for w in row] for row in entry["matrix"]], dtype=float)
        np.testing.assert_allclose(matrix, panel.matrix, atol=1e-6)  # NaN where masked, in the same places
        assert "/" not in entry["model"]  # a local folder's name, never a server path
    assert raw[2]["source_columns"] == comparison.panels[2].source_columns
    assert raw[2]["translation_text"] == comparison.panels[2].translation_text
    assert raw[1]["matrix"][0][1] is None and raw[0]["matrix"][0][1] is not None


def test_a_family_that_cannot_load_says_so_and_the_others_still_show(tiny_models, broken_model):
    trio = trio_of(tiny_models, decoder=str(broken_model))
    result = compare("I love food", trio, max_tokens=64, max_new_tokens=4)
    encoder, decoder, encoder_decoder = result.panels
    assert isinstance(decoder, Failed) and decoder.family == DECODER
    assert "Could not load the model 'broken'" in decoder.message
    assert str(broken_model) not in decoder.message  # no server paths
    assert isinstance(encoder, Panel) and isinstance(encoder_decoder, Panel)
    assert result.as_raw_output()[1] == {
        "family": DECODER,
        "model": "broken",
        "sees": decoder.sees,
        "error": decoder.message,
    }


def test_each_model_reads_at_most_the_comparisons_tokens_and_says_when_it_was_cut(tiny_models):
    result = compare(TEXT * 3, trio_of(tiny_models), max_tokens=8, max_new_tokens=5)
    assert result.truncated
    encoder, decoder, encoder_decoder = result.panels
    assert len(encoder.query) == 8 and len(decoder.query) == 8
    assert encoder_decoder.source_columns == 8
    assert len(encoder_decoder.query) <= 6  # the start token and at most 5 written


def test_progress_names_each_family_and_its_model_in_turn(tiny_models):
    seen: list[tuple[float, str]] = []
    compare("I love food", trio_of(tiny_models), max_tokens=64, max_new_tokens=3, on_progress=lambda *a: seen.append(a))
    starts = [(done, message) for done, message in seen if message.endswith("…") and "Loading" not in message]
    assert [done for done, _ in starts] == pytest.approx([0, 1 / 3, 2 / 3])
    assert starts[0][1].startswith("1/3 encoder-only (attention)")
    assert starts[2][1] == "3/3 encoder-decoder (translation_fr): translating into French…"


# The figure: pure functions of arrays ---------------------------------------------------------


def test_a_masked_cell_is_drawn_grey_without_hover_never_as_a_colour_of_the_scale():
    matrix = causal(np.array([[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.2, 0.5, 0.3]], dtype=np.float32))
    figure = figure_dict(masked_heatmap(matrix, ["a", "b", "c"], ["a", "b", "c"], title="t").to_json())
    [trace] = figure["data"]
    z = decode_array(trace["z"])
    assert np.isnan(z[upper(3)]).all()
    np.testing.assert_allclose(z[~upper(3)], matrix[~upper(3)])
    assert trace["hoverongaps"] is False
    assert figure["layout"]["plot_bgcolor"] == MASKED_COLOR
    assert "shapes" not in figure["layout"] or not figure["layout"]["shapes"]


def test_an_encoder_decoders_halves_are_divided_and_named():
    matrix = np.hstack([np.full((2, 3), 1 / 3), causal(np.array([[1.0, 0.0], [0.4, 0.6]]))]).astype(np.float32)
    figure = masked_heatmap(
        matrix, ["<pad>", "la"], ["I", "am", "</s>", "<pad>", "la"], title="t", halves=(3, "English source", "target")
    )
    lines = [shape for shape in figure.layout.shapes if shape.type == "line"]
    assert lines and all(shape.x0 == shape.x1 == 2.5 for shape in lines)  # between column 2 and column 3
    names = {annotation.text: annotation.x for annotation in figure.layout.annotations}
    assert names == {"English source": 1.0, "target": 3.5}  # centred over each half
    top = figure.layout.margin.t
    assert 0 < (1 - figure.layout.title.y) * figure.layout.height < top  # the title stays above the plot


def test_the_fitted_colour_range_leaves_out_masked_cells_and_rows_with_one_visible_token():
    matrix = causal(np.array([[1.0, 0.0, 0.0], [0.3, 0.7, 0.0], [0.2, 0.5, 0.3]], dtype=np.float32))
    assert color_range(matrix, fitted=True) == pytest.approx({"zmin": 0.2, "zmax": 0.7, "fitted": True})
    assert color_range(matrix, fitted=False) == {"zmin": 0.0, "zmax": 1.0, "fitted": False}


# Through the API of the launched app ------------------------------------------------------------

PANELS = 7  # what the switch adds after the explorer's outputs: the caption, three messages, three plots


def test_the_switch_over_the_api_shows_three_panels_equal_to_transformers(client, expected):
    outputs = client.predict(text=TEXT, compare_architectures=True, api_name="/attention")
    assert len(outputs) == 2 + len(EXPLORER_OUTPUTS) + PANELS
    caption, *messages = outputs[-PANELS:-3]
    assert caption["visible"] and "Grey cells are hidden by the model's mask" in caption["value"]
    assert not any(message["visible"] for message in messages)
    raw = outputs[1]["architectures"]
    for family, entry, plot in zip(expected, raw, outputs[-3:], strict=True):
        want = expected[family]
        assert entry["family"] == family and plot["visible"]
        assert (entry["tokens"], entry["key_tokens"]) == (want["tokens"], want["key_tokens"])
        [z] = heatmap_matrices(plot["value"])
        assert_same(z, want["matrix"])
        assert_same(np.array([[np.nan if w is None else w for w in row] for row in entry["matrix"]]), want["matrix"])
        title = figure_dict(plot["value"])["layout"]["title"]["text"].replace("<br>", " ")
        assert SEES[family] in title and title.startswith(family.capitalize())
    assert raw[2]["translation_text"] == expected[ENCODER_DECODER]["translation_text"]
    assert "translated the text into French" in caption["value"]


def test_with_the_switch_off_attention_answers_as_before(client, tiny_models):
    outputs = client.predict(text=TEXT, api_name="/attention")
    note, raw = outputs[:2]
    assert note == ""
    assert set(raw) == {"model", "tokens", "num_layers", "num_heads"}  # no "architectures"
    plot = explorer_outputs(outputs, 2)["plot"]
    tokenizer, model = load_direct(AutoModel, tiny_models["attention"])
    want = last_mean(forward(model, **tokenizer(TEXT, return_tensors="pt")).attentions)
    np.testing.assert_allclose(heatmap_matrices(plot)[0], want, atol=ATOL)
    assert all(not panel["visible"] and panel.get("value") is None for panel in outputs[-PANELS:])


def test_in_the_app_a_family_that_cannot_load_shows_its_message_and_the_others_their_heatmaps(
    tiny_models, broken_model
):
    env = playground_env(tiny_models, broken_model) | {"PLAYGROUND_GENERATION_MODEL": str(broken_model)}
    with serving(env) as client:
        outputs = client.predict(text="I love food", compare_architectures=True, api_name="/attention")
    encoder, decoder, encoder_decoder = outputs[-6:-3]
    assert decoder["visible"] and "Could not load the model 'broken'" in decoder["value"]
    assert not encoder["visible"] and not encoder_decoder["visible"]
    plots = outputs[-3:]
    assert [plot["visible"] for plot in plots] == [True, False, True]
    assert heatmap_matrices(plots[0]["value"]) and heatmap_matrices(plots[2]["value"])
    assert outputs[1]["architectures"][1]["error"].startswith("Could not load the model 'broken'")


def test_loading_a_model_is_not_waiting_for_the_cpu(tiny_models, monkeypatch):
    """Three first loads in one request must not read as a Space too busy to answer (the wall limit)."""
    from services import models, run_guard

    real_load = models.load_model

    def slow_load(*args, **kwargs):
        time.sleep(0.5)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(models, "load_model", slow_load)
    cache = models.ModelCache()
    guard = run_guard.RunGuard(0.05)  # a wall limit of 0.05 s x WALL_FACTOR = 0.3 s
    with run_guard.guarding(guard):
        cache.get("encoder", str(tiny_models["attention"]))
        guard.check()  # the 0.5 s load did not count
        time.sleep(0.5)
        with pytest.raises(run_guard.RunStopped, match="too busy"):
            guard.check()  # while time that is not a load does


def test_real_minilm_and_smollm2_panels_equal_their_models_called_directly(minilm_path, smollm2_gguf_path, tiny_models):
    """The real encoder and decoder (the cache's own copies, called directly: a GGUF loads slowly)."""
    from services.models import MODELS

    trio = trio_of(tiny_models, encoder=str(minilm_path), decoder=str(smollm2_gguf_path))
    encoder, decoder, _ = compare(TEXT, trio, max_tokens=64, max_new_tokens=4).panels
    for panel, kind in ((encoder, "encoder"), (decoder, "causal-lm")):
        loaded = MODELS.get(kind, panel.model)
        inputs = loaded.tokenizer(TEXT, return_tensors="pt")
        want = last_mean(forward(loaded.model, **inputs).attentions)
        assert list(panel.query.tokens) == loaded.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
        assert_same(panel.matrix, want if kind == "encoder" else masked(want))
    assert "animal" in encoder.query.texts and "animal" in decoder.query.texts  # each model's own tokens, readable
    # SmolLM2 parks much of each row's attention on its first token (an attention sink), as real decoders do.
    assert np.nanmean(decoder.matrix[1:, 0]) > 0.3
