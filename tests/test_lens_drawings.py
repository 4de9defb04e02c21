"""The lenses' drawings and controls on synthetic results: no model, only arrays, tokens and a recipe."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from components.explorer import lenses
from components.explorer.lens_store import LENS_RESULTS, Declined
from components.explorer.lenses.attribution import agreement, spearman
from components.explorer.view import parse_view
from services.attention_maps import AttentionMaps, Step
from services.errors import InputError
from services.lenses.ablation import Ablation
from services.lenses.attribution import Attribution
from services.lenses.importance import HeadImportance
from services.lenses.logit_lens import LogitLens
from services.recipe import KnockOut, Recipe
from services.tokens import TokenAxis
from tests.figures import figure_dict

TOKENS = ("[CLS]", "i", "love", "fo", "##od", "[SEP]")


def axis(tokens=TOKENS, words=None) -> TokenAxis:
    special = tuple(t.startswith("[") or t.startswith("<") for t in tokens)
    word_of, words_found = [], []
    for i, token in enumerate(tokens):
        if i and token.startswith("##"):
            word_of.append(word_of[-1])
        else:
            word_of.append(len(words_found))
            words_found.append(token)
    return TokenAxis(tokens, tuple(range(len(tokens))), special, tuple(word_of), tuple(words or words_found))


def run(task: str = "sentiment", steps=()) -> AttentionMaps:
    tokens = axis()
    raw = np.random.default_rng(0).random((2, 3, len(TOKENS), len(TOKENS))).astype(np.float32)
    recipe = Recipe(
        task=task, model="m", kind="k", precision="fp32", ids=(tokens.ids,), answer=1, labels=("NEG", "POS")
    )
    return AttentionMaps(
        title="toy", query=tokens, key=tokens, weights=raw / raw.sum(-1, keepdims=True), recipe=recipe, steps=steps
    )


def draw(maps, **controls):
    view = parse_view(controls, [maps])
    return lenses.draw(maps, view)


def test_the_controls_are_parsed_with_messages_naming_them():
    maps = run()
    view = parse_view({"lens": "knock_out", "ablate": "2.3, 1.1", "attribution": True}, [maps])
    assert view.lens == "knock_out" and view.knock_out == ((2, 3), (1, 1)) and view.requests == ("attribution",)
    with pytest.raises(InputError, match=r"^Lens must be one of attention, attribution, knock_out"):
        parse_view({"lens": "saliency"}, [maps])
    with pytest.raises(InputError, match=r"^Heads to knock out: head 4 does not exist; this model has heads 1 to 3\.$"):
        parse_view({"ablate": "1.4"}, [maps])
    with pytest.raises(InputError, match=r"^Heads to knock out are layer.head pairs counted from 1"):
        parse_view({"ablate": "two.three"}, [maps])


def test_spearman_and_the_agreement_sentence():
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2.0, 2.0, 4.0]), np.array([4.0, 3.0, 2.0, 1.0])) == pytest.approx(-0.9486833)
    assert spearman(np.array([1.0]), np.array([2.0])) is None
    names, special = ("[CLS]", "food", "love", "[SEP]"), (True, False, False, True)
    sentence = agreement(np.array([0.9, 0.6, 0.1, 0.5]), np.array([0.0, 0.1, 0.8, 0.0]), names, special)
    assert sentence == "Attention favours 'food'; attribution favours 'love' (rank correlation -1.00)."


def test_a_lens_not_computed_yet_or_declined_says_so_and_keeps_the_attention():
    maps = run()
    drawing = draw(maps, lens="attribution")
    assert drawing.sentence.startswith("Attribution runs the model again when you choose it under 'Lens'")
    np.testing.assert_allclose(drawing.matrix, maps.weights[-1].mean(0), atol=1e-6)
    LENS_RESULTS.compute(maps, "head_importance", (), lambda: (_ for _ in ()).throw(InputError("too slow here")))
    assert LENS_RESULTS.get(maps, "head_importance") == Declined("too slow here")
    assert draw(maps, lens="head_importance").sentence == "too slow here"
    assert "has none of its own" in draw(replace(maps, recipe=None), lens="attribution").sentence
    assert draw(maps, lens="logit_lens").sentence.startswith("The logit lens reads a decoder")


def test_integrated_gradients_drawn_as_bars_summed_over_words():
    maps = run()
    scores = np.array([[0.0, 0.1, 0.5, 0.2, 0.3, 0.0]], dtype=np.float32)
    result = Attribution("integrated_gradients", axis(), scores, target="POS", delta=0.001)
    LENS_RESULTS.compute(maps, "attribution", (), lambda: result)
    drawing = draw(maps, lens="attribution", merge_words=True)
    bars = figure_dict(drawing.main)["data"][0]
    assert drawing.col_labels == ("[CLS]", "i", "love", "fo", "[SEP]")  # "fo ##od" is one word, "fo"
    np.testing.assert_allclose(drawing.matrix[0], [0.0, 0.1, 0.5, 0.5, 0.0], atol=1e-6)
    assert len(bars["x"]) == 5 and drawing.row_labels == ("→ POS",)
    assert "attribution favours 'love'" in drawing.sentence or "both favour" in drawing.sentence
    assert "add up to 1.1" in drawing.sentence and "delta is 1.0e-03" in drawing.sentence
    # The bars beside show where [CLS], the token the classifier reads, attends: it is the one in focus.
    assert drawing.focus == "0" and "[CLS]" in figure_dict(drawing.focus_figure)["layout"]["title"]["text"]


def writer_run() -> AttentionMaps:
    steps = (Step(query=3, token="fo"), Step(query=4, token="##od"))
    return replace(run("generation", steps), recipe=replace(run().recipe, task="generation", answer=4))


def test_gradient_x_input_drawn_like_attention_and_stepped():
    maps = writer_run()
    scores = np.array([[1, 2, -3, 0, 0], [0, 1, 2, 6, 0]], dtype=np.float32)
    result = Attribution("gradient_x_input", axis(TOKENS[:5]), scores, targets=("fo", "##od"))
    LENS_RESULTS.compute(maps, "attribution", (), lambda: result)
    drawing = draw(maps, lens="attribution", step=2)
    assert drawing.step == 2 and drawing.focus == "4"
    np.testing.assert_allclose(drawing.matrix, scores)
    assert drawing.sentence.startswith("Step 2 writes '##od': 'fo' pushed it most (+6)")
    assert figure_dict(drawing.main)["layout"]["shapes"][0]["y0"] == 0.5  # the step's row is outlined


def test_knock_out_drawn_beside_the_original():
    maps = run()
    knocked = replace(maps, weights=maps.weights.copy())
    knocked.weights[1, 2] = 0.0
    result = Ablation(
        knock_out=KnockOut(((2, 3),)),
        stack="attention",
        measure="the probability of POS",
        original="POS",
        knocked_out="NEG",
        before=0.9,
        after=0.3,
        attention=knocked,
        classes=("NEG", "POS"),
        before_each=(0.1, 0.9),
        after_each=(0.7, 0.3),
    )
    assert draw(maps, lens="knock_out").sentence.startswith("Name heads in 'Heads to knock out'")
    LENS_RESULTS.compute(maps, "knock_out", ((2, 3),), lambda: result)
    drawing = draw(maps, lens="knock_out", ablate="2.3", layer=2, head="3")
    assert np.all(drawing.matrix == 0.0)
    assert drawing.sentence == (
        "With heads 2.3 knocked out, the answer is NEG (0.700); with every head, POS. "
        "The probability of POS goes from 0.900 to 0.300 (-0.6)."
    )
    assert "Press Enter" in draw(maps, lens="knock_out", ablate="1.1").sentence  # other heads: not computed yet


def test_head_importance_names_the_heads_and_compares_with_attention():
    maps = run()
    change = np.array([[0.0, -0.5, 0.1], [0.02, 0.0, -0.2]], dtype=np.float32)
    result = HeadImportance(target="POS", measure="the probability of POS", base=0.9, change=change, stack="attention")
    LENS_RESULTS.compute(maps, "head_importance", (), lambda: result)
    maps.weights[0, 1, :, 2] = 5.0  # head 1.2 looks hardest at "love"
    drawing = draw(maps, lens="head_importance", focus="love")
    assert drawing.sentence.startswith(
        "Knocked out alone, 1.2 (-0.5) moves the probability of POS most, then 2.3 (-0.2) and 1.3 (+0.1). "
        "The heads that attend most to 'love' are 1.2, "
    )
    assert drawing.sentence.endswith("among the 3 that matter most.")
    np.testing.assert_allclose(drawing.matrix, change)


def test_logit_lens_grid_and_where_the_token_settles():
    maps = writer_run()
    top = (("le", "od"), ("fo", "##od"))
    result = LogitLens(
        tokens=("fo", "##od"),
        top=top,
        top_prob=np.array([[0.2, 0.3], [0.6, 0.7]], dtype=np.float32),
        chosen_prob=np.array([[0.1, 0.2], [0.6, 0.7]], dtype=np.float32),
    )
    LENS_RESULTS.compute(maps, "logit_lens", (), lambda: result)
    drawing = draw(maps, lens="logit_lens", step=1)
    assert drawing.sentence == (
        "Step 1 writes 'fo': from layer 2 on, every layer's top guess is 'fo' (0.6 there, 0.6 at the last layer); "
        "layer 1 guessed 'le'."
    )
    assert [list(row) for row in figure_dict(drawing.main)["data"][0]["text"]] == [["le", "od"], ["fo", "##od"]]
