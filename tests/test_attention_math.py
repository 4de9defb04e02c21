"""Every number the explorer derives from real attention equals a naive loop over tokens and words.

Real weights: MiniLM (WordPiece, "unbelievably" in five pieces, a sentence pair, [CLS] and [SEP]);
tiny models: a byte-level BPE causal LM (BOS at row 0) and Marian cross-attention (</s> among the keys).
The expectations come from tests/naive_attention.py, which never calls components/explorer/shaping.py.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from components.explorer import shaping as am
from services import attention, generation, translation
from services.errors import InputError
from tests import naive_attention as naive

ATOL = 1e-5
PAIR = ("The animal didn't cross the street because it was too tired, unbelievably.", "She bought the apple.")
ANIMAL = "The animal didn't cross the street because it was too tired"
SWITCHES = [{"merge_words": merge, "hide_special": hide} for merge, hide in itertools.product((False, True), repeat=2)]


@pytest.fixture(scope="module")
def pair_maps(minilm_path):
    return attention.attend(*PAIR, model=str(minilm_path)).attention


@pytest.fixture(scope="module")
def animal_maps(minilm_path):
    return attention.attend(ANIMAL, model=str(minilm_path)).attention


@pytest.fixture(scope="module")
def causal_maps(tiny_models):
    options = generation.GenerationOptions(max_new_tokens=5)
    result = generation.generate(
        "So today, I just feel like unbelievably", options, model=str(tiny_models["generation"])
    )
    return result.sequences[0].attention


@pytest.fixture(scope="module")
def cross_maps(tiny_models):
    models = {"fr": str(tiny_models["translation_fr"])}
    return translation.translate(
        "You like this unbelievably house", "fr", models=models, max_new_tokens=12
    ).cross_attention


def positions_of(axis, word: str) -> list[int]:
    """The token positions of the first word spelled `word`."""
    index = axis.words.index(word)
    return [i for i in range(len(axis.tokens)) if axis.word_of[i] == index]


def test_the_inputs_have_what_the_checks_need(pair_maps, causal_maps, cross_maps):
    """Multi-piece words and special tokens on every side, so the switches change something."""
    assert pair_maps.query.tokens[15:20] == ("un", "##bel", "##ie", "##va", "##bly")
    assert pair_maps.query.tokens.count("[SEP]") == 2 and pair_maps.query.special[0]
    assert causal_maps.query.special[0] and not causal_maps.cross
    assert len(positions_of(causal_maps.query, "just")) == 3
    assert cross_maps.cross and cross_maps.key.special[-1] and cross_maps.query.special[0]
    assert len(positions_of(cross_maps.key, "unbelievably")) > 1


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: f"merge={s['merge_words']},hide={s['hide_special']}")
@pytest.mark.parametrize("name", ["pair_maps", "causal_maps", "cross_maps"])
def test_every_layer_and_head_shaped_equals_the_naive_rules(request, name, switches):
    maps = request.getfixturevalue(name)
    shaped = am.shape(maps, maps.weights, **switches)
    rows = naive.token_groups(maps.query, **switches)
    cols = naive.token_groups(maps.key, **switches)
    assert [list(group) for group in shaped.rows] == rows and [list(group) for group in shaped.cols] == cols
    assert list(shaped.row_labels) == naive.group_labels(maps.query, rows, merge_words=switches["merge_words"])
    assert list(shaped.col_labels) == naive.group_labels(maps.key, cols, merge_words=switches["merge_words"])
    assert shaped.weights.shape == (maps.num_layers, maps.num_heads, len(rows), len(cols))
    for layer, head in itertools.product(range(maps.num_layers), range(maps.num_heads)):
        expected = naive.shaped_head(maps, layer, head, **switches)
        np.testing.assert_allclose(shaped.weights[layer, head], expected, atol=ATOL)
    # Merging moves weight between columns and averages rows; hiding renormalises: rows still sum to 1.
    np.testing.assert_allclose(shaped.weights.sum(axis=-1), 1.0, atol=ATOL)


def test_hiding_special_tokens_keeps_the_ratios_between_kept_weights(pair_maps):
    shaped = am.shape(pair_maps, pair_maps.weights, merge_words=False, hide_special=True)
    raw = pair_maps.weights
    for layer, head in [(0, 0), (2, 7), (5, 11)]:
        for r, (q,) in enumerate(shaped.rows):
            first = shaped.cols[0][0]
            for c, (k,) in enumerate(shaped.cols):
                expected = float(raw[layer, head, q, k]) / float(raw[layer, head, q, first])
                actual = float(shaped.weights[layer, head, r, c]) / float(shaped.weights[layer, head, r, 0])
                assert actual == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("head", ["mean", "max", "7"])
@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: f"merge={s['merge_words']},hide={s['hide_special']}")
def test_layer_view_combines_the_transformed_heads(pair_maps, head, switches):
    shaped, matrix = am.layer_view(pair_maps, 4, head, **switches)
    np.testing.assert_allclose(matrix, naive.shaped_view(pair_maps, 3, head, **switches), atol=ATOL)
    for h in range(pair_maps.num_heads):
        np.testing.assert_allclose(shaped.weights[h], naive.shaped_head(pair_maps, 3, h, **switches), atol=ATOL)


def test_the_max_is_taken_after_each_head_is_transformed(pair_maps):
    """The max over heads of merged rows is not the merged rows of the max: the order is checked, not assumed."""
    switches = {"merge_words": True, "hide_special": True}
    _, matrix = am.layer_view(pair_maps, 4, "max", **switches)
    max_first = pair_maps.weights[3].max(axis=0)
    cols = naive.token_groups(pair_maps.key, **switches)
    rows = naive.token_groups(pair_maps.query, **switches)
    transformed_max = [naive.word_row(max_first, group, cols, hide_special=True) for group in rows]
    assert not np.allclose(matrix, transformed_max, atol=1e-3)


@pytest.mark.parametrize("head", ["mean", "max", "3"])
@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: f"merge={s['merge_words']},hide={s['hide_special']}")
def test_focus_row_of_a_token_a_word_and_a_hidden_special_token(pair_maps, head, switches):
    it = [pair_maps.query.tokens.index("it")]
    word = positions_of(pair_maps.query, "unbelievably")
    for positions in (it, word, [0], [len(pair_maps.query) - 1]):  # [CLS] and the last [SEP] too
        row = am.focus_row(pair_maps, positions, 2, head, **switches)
        np.testing.assert_allclose(row, naive.focus(pair_maps, positions, 1, head, **switches), atol=ATOL)
        if head != "max":
            assert row.sum() == pytest.approx(1.0, abs=ATOL)
    shaped, matrix = am.layer_view(pair_maps, 2, head, **switches)
    for r, group in enumerate(shaped.rows):  # a shown row is the same row as in the matrix
        np.testing.assert_allclose(am.focus_row(pair_maps, group, 2, head, **switches), matrix[r], atol=ATOL)


def test_a_row_that_attended_only_to_hidden_tokens_is_empty_and_says_so(causal_maps):
    """A causal model's BOS row can only look at itself; with special tokens hidden nothing is left."""
    row = am.focus_row(causal_maps, [0], 1, "mean", merge_words=False, hide_special=True)
    assert row.shape == (len(naive.token_groups(causal_maps.key, merge_words=False, hide_special=True)),)
    assert not row.any()
    labels = naive.group_labels(
        causal_maps.key, naive.token_groups(causal_maps.key, merge_words=False, hide_special=True), merge_words=False
    )
    assert am.focus_sentence("<s>", labels, row, layer=1, head="mean") == (
        "'<s>' has no tokens left to attend to with special tokens hidden."
    )


@pytest.mark.parametrize(
    ("layer", "head", "switches"),
    [
        (3, "5", SWITCHES[0]),
        (5, "9", SWITCHES[2]),
        (2, "mean", SWITCHES[3]),
        (6, "max", SWITCHES[1]),
    ],
)
def test_focus_sentence_names_the_query_and_its_strongest_key(animal_maps, layer, head, switches):
    shaped, _ = am.layer_view(animal_maps, layer, head, **switches)
    row = am.resolve_focus(animal_maps, "it", shaped.rows)
    weights = am.focus_row(animal_maps, shaped.rows[row], layer, head, **switches)
    sentence = am.focus_sentence(shaped.row_labels[row], shaped.col_labels, weights, layer=layer, head=head)

    cols = naive.token_groups(animal_maps.key, **switches)
    labels = naive.group_labels(animal_maps.key, cols, merge_words=switches["merge_words"])
    expected = naive.focus(animal_maps, [animal_maps.query.tokens.index("it")], layer - 1, head, **switches)
    best = 0
    for c in range(len(expected)):
        if expected[c] > expected[best]:
            best = c
    where = {"mean": "averaged over heads", "max": "max over heads"}.get(head, f"head {head}")
    assert sentence == f"'it' attends most to '{labels[best]}' ({expected[best]:.2f}) in layer {layer}, {where}."
    assert re.search(r"\(\d\.\d\d\) in layer", sentence)


@pytest.mark.parametrize("name", ["pair_maps", "causal_maps"])
def test_head_summaries_equal_naive_loops(request, name):
    maps = request.getfixturevalue(name)
    summaries = am.head_summaries(maps)
    expected = naive.head_numbers(maps)
    for field in ("entropy", "special", "distance", "previous"):
        actual = getattr(summaries, field)
        assert actual.shape == (maps.num_layers, maps.num_heads)
        np.testing.assert_allclose(actual, expected[field], atol=1e-4, err_msg=field)
    assert (summaries.entropy >= -ATOL).all() and (summaries.entropy <= math.log2(len(maps.key)) + ATOL).all()
    assert set(summaries.as_dict()) == {
        "entropy (bits)",
        "share on special tokens",
        "mean distance (tokens)",
        "share on previous token",
    }


def test_a_causal_models_previous_token_share_leaves_out_the_first_row(causal_maps):
    """Row 0 has no previous token; the share is the mean over rows 1.. of weight[q, q - 1]."""
    previous = am.head_summaries(causal_maps).previous
    for layer, head in itertools.product(range(causal_maps.num_layers), range(causal_maps.num_heads)):
        shares = [float(causal_maps.weights[layer, head, q, q - 1]) for q in range(1, len(causal_maps.query))]
        assert previous[layer, head] == pytest.approx(sum(shares) / len(shares), abs=ATOL)


def test_cross_attention_has_no_distance_nor_previous_token(cross_maps):
    summaries = am.head_summaries(cross_maps)
    assert summaries.distance is None and summaries.previous is None
    expected = naive.head_numbers(cross_maps)
    np.testing.assert_allclose(summaries.entropy, expected["entropy"], atol=1e-4)
    np.testing.assert_allclose(summaries.special, expected["special"], atol=1e-4)
    assert set(summaries.as_dict()) == {"entropy (bits)", "share on special tokens"}


def row_holding(rows: list[list[int]], position: int) -> int:
    return next(index for index, group in enumerate(rows) if position in group)


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: f"merge={s['merge_words']},hide={s['hide_special']}")
def test_resolve_focus_by_position_word_and_token(pair_maps, switches):
    rows = naive.token_groups(pair_maps.query, **switches)
    shaped = tuple(tuple(group) for group in rows)
    tokens = pair_maps.query.tokens
    word = positions_of(pair_maps.query, "unbelievably")
    assert am.resolve_focus(pair_maps, "7", shaped) == row_holding(rows, 7)
    assert am.resolve_focus(pair_maps, " #17 ", shaped) == row_holding(rows, 17)  # a piece inside the word
    assert am.resolve_focus(pair_maps, 10, shaped) == row_holding(rows, 10)
    assert am.resolve_focus(pair_maps, "unbelievably", shaped) == row_holding(rows, word[0])
    assert am.resolve_focus(pair_maps, "##VA", shaped) == row_holding(rows, tokens.index("##va"))
    assert am.resolve_focus(pair_maps, "IT", shaped) == row_holding(rows, tokens.index("it"))
    first_plain = next(i for i, group in enumerate(rows) if not pair_maps.query.special[group[0]])
    assert am.resolve_focus(pair_maps, None, shaped) == am.resolve_focus(pair_maps, "  ", shaped) == first_plain
    assert tokens[rows[first_plain][0]] == "the"
    with pytest.raises(InputError, match="'banana' is not a token or word of this input"):
        am.resolve_focus(pair_maps, "banana", shaped)
    last = len(tokens) - 1
    with pytest.raises(InputError, match=f"Token position 99 is not shown; positions go from 0 to {last}\\."):
        am.resolve_focus(pair_maps, "99", shaped)
    if switches["hide_special"]:
        with pytest.raises(InputError, match="Token position 0 is not shown"):
            am.resolve_focus(pair_maps, "0", shaped)
        with pytest.raises(InputError, match=r"'\[SEP\]' is not a token or word"):
            am.resolve_focus(pair_maps, "[SEP]", shaped)


def test_resolve_focus_on_byte_level_pieces(causal_maps):
    """'just' is three BPE pieces (Ġj, u, st): the word finds its row; the bare token 'u' finds its own."""
    just = positions_of(causal_maps.query, "just")
    merged = tuple(tuple(g) for g in naive.token_groups(causal_maps.query, merge_words=True, hide_special=False))
    single = tuple(tuple(g) for g in naive.token_groups(causal_maps.query, merge_words=False, hide_special=False))
    assert merged[am.resolve_focus(causal_maps, "just", merged)] == tuple(just)
    assert single[am.resolve_focus(causal_maps, "just", single)] == (just[0],)
    assert single[am.resolve_focus(causal_maps, "u", single)] == (just[1],)
    assert single[am.resolve_focus(causal_maps, None, single)] == (1,)
