"""The explorer's shaping on attention built by hand: known summaries, windows, block means, random inputs.

No model is loaded; expectations are literal numbers or come from tests/naive_attention.py.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from components.explorer import shaping as am
from services.attention_maps import AttentionMaps
from services.errors import InputError
from services.tokens import TokenAxis
from tests import naive_attention as naive

ATOL = 1e-5
AXIS = TokenAxis(
    tokens=("[CLS]", "un", "##bel", "it", "[SEP]"),
    ids=(101, 1, 2, 3, 102),
    special=(True, False, False, False, True),
    word_of=(0, 1, 1, 2, 3),
    words=("[CLS]", "unbel", "it", "[SEP]"),
)
ONE_HOT = np.eye(5)[[0, 0, 0, 0, 0]]  # every row looks at [CLS]
UNIFORM = np.full((5, 5), 1 / 5)
PREVIOUS = np.eye(5)[[0, 0, 1, 2, 3]]  # row 0 looks at itself, row q at q - 1


def hand_built(*, cross: bool = False) -> AttentionMaps:
    weights = np.stack([ONE_HOT, UNIFORM, PREVIOUS])[None].astype(np.float32)
    return AttentionMaps(title="by hand", query=AXIS, key=AXIS, weights=weights, cross=cross)


def test_head_summaries_of_heads_with_known_answers():
    summaries = am.head_summaries(hand_built())
    # One-hot rows have no uncertainty; a uniform row over 5 keys has log2(5) bits.
    np.testing.assert_allclose(summaries.entropy, [[0.0, math.log2(5), 0.0]], atol=ATOL)
    # [CLS] is the first key: all of head 1, a fifth of head 2, rows 0 and 1 of head 3.
    np.testing.assert_allclose(summaries.special, [[1.0, 0.4, 0.4]], atol=ATOL)
    # |q - 0| averaged over q = 2; uniform: (10 + 7 + 6 + 7 + 10) / 25; previous: (0 + 1 + 1 + 1 + 1) / 5.
    np.testing.assert_allclose(summaries.distance, [[2.0, 1.6, 0.8]], atol=ATOL)
    # Rows 1.. only: only row 1 of head 1 looks back one; a fifth of each uniform row; all of head 3.
    np.testing.assert_allclose(summaries.previous, [[0.25, 0.2, 1.0]], atol=ATOL)
    crossed = am.head_summaries(hand_built(cross=True))
    assert crossed.distance is None and crossed.previous is None
    np.testing.assert_allclose(crossed.entropy, summaries.entropy)


def test_both_switches_on_hand_built_heads():
    maps = hand_built()
    shaped = am.shape(maps, maps.weights[0], merge_words=True, hide_special=True)
    assert shaped.row_labels == shaped.col_labels == ("unbel", "it")
    assert shaped.rows == shaped.cols == ((1, 2), (3,))
    # Head 1 looked only at [CLS]: nothing is left. Head 2: each kept key gets a third; 'unbel' sums two.
    # Head 3: piece 'un' looked only at [CLS] and is left out of the mean; '##bel' and 'it' look back into 'unbel'.
    expected = [[[0, 0], [0, 0]], [[2 / 3, 1 / 3], [2 / 3, 1 / 3]], [[1, 0], [1, 0]]]
    np.testing.assert_allclose(shaped.weights, expected, atol=ATOL)
    row = am.focus_row(maps, [1, 2], 1, "1", merge_words=True, hide_special=True)
    assert am.focus_sentence("unbel", shaped.col_labels, row, layer=1, head="1") == (
        "'unbel' has no tokens left to attend to with special tokens hidden."
    )
    row = am.focus_row(maps, [1, 2], 1, "max", merge_words=True, hide_special=True)
    np.testing.assert_allclose(row, [1, 1 / 3], atol=ATOL)
    assert am.focus_sentence("unbel", shaped.col_labels, row, layer=1, head="max") == (
        "'unbel' attends most to 'unbel' (1.00) in layer 1, max over heads."
    )


def test_only_special_tokens_left_is_a_clear_error():
    axis = TokenAxis(tokens=("<s>", "</s>"), ids=(0, 2), special=(True, True), word_of=(0, 1), words=("<s>", "</s>"))
    maps = AttentionMaps(title="specials", query=axis, key=axis, weights=np.full((1, 1, 2, 2), 0.5, np.float32))
    with pytest.raises(InputError, match="only special tokens; turn off 'Hide special tokens'"):
        am.shape(maps, maps.weights, merge_words=False, hide_special=True)


@pytest.mark.parametrize("max_cells", [1, 5, 12, 30, 1000])
def test_window_keeps_the_focus_row_and_the_cell_budget(max_cells):
    for rows, cols in itertools.product(range(1, 13), range(1, 7)):
        height = rows if rows * cols <= max_cells else max(1, max_cells // cols)
        for around in range(rows):
            chosen = am.window(rows, cols, around=around, max_cells=max_cells)
            assert chosen.step == 1 and len(chosen) == height, (rows, cols, around)
            assert chosen.start >= 0 and chosen.stop <= rows and around in chosen
            assert len(chosen) * cols <= max_cells or len(chosen) == 1
            # Centred on the focus row where the edges allow.
            start = around - height // 2
            if start < 0:
                start = 0
            if start > rows - height:
                start = rows - height
            assert chosen.start == start


@pytest.mark.parametrize(
    ("rows", "cols", "max_side"),
    [(4, 4, 4), (4, 4, 10), (10, 7, 3), (7, 10, 3), (9, 9, 4), (13, 5, 2), (1, 11, 4), (30, 1, 7)],
)
def test_downsample_is_the_mean_of_each_block_ragged_edges_included(rows, cols, max_side):
    panels = np.random.default_rng(rows * 100 + cols).random((2, 3, rows, cols)).astype(np.float32)
    small, size = am.downsample(panels, max_side)
    expected_size = 1
    while -(-rows // expected_size) > max_side or -(-cols // expected_size) > max_side:
        expected_size += 1
    assert size == expected_size
    assert small.shape[-2] <= max_side and small.shape[-1] <= max_side
    for a, b in itertools.product(range(2), range(3)):
        np.testing.assert_allclose(small[a, b], naive.block_means(panels[a, b], size), atol=ATOL)


@st.composite
def token_axes(draw, length: int | None = None) -> TokenAxis:
    """Tokens with random special flags and random word groupings; special tokens are words of their own."""
    n = length or draw(st.integers(1, 6))
    special = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    joins = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    word_of = [0]
    for i in range(1, n):
        starts = special[i] or special[i - 1] or not joins[i]
        word_of.append(word_of[-1] + 1 if starts else word_of[-1])
    return TokenAxis(
        tokens=tuple(f"t{i}" for i in range(n)),
        ids=tuple(range(n)),
        special=tuple(special),
        word_of=tuple(word_of),
        words=tuple(f"w{w}" for w in range(word_of[-1] + 1)),
    )


@st.composite
def attention_maps(draw) -> AttentionMaps:
    """Self- or cross-attention with some exact zeros (as causal masks make); every row sums to 1."""
    cross = draw(st.booleans())
    query = draw(token_axes())
    key = draw(token_axes()) if cross else query
    layers, heads = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    cells = st.one_of(st.just(0.0), st.floats(0.01, 1.0))
    raw = draw(arrays(np.float64, (layers, heads, len(query), len(key)), elements=cells))
    raw[..., 0] += raw.sum(axis=-1) == 0
    weights = (raw / raw.sum(axis=-1, keepdims=True)).astype(np.float32)
    return AttentionMaps(title="random", query=query, key=key, weights=weights, cross=cross)


@settings(max_examples=200, deadline=None)
@given(maps=attention_maps())
def test_random_attention_keeps_its_shape_and_row_sums(maps):
    for merge, hide in itertools.product((False, True), repeat=2):
        switches = {"merge_words": merge, "hide_special": hide}
        rows = naive.token_groups(maps.query, **switches)
        cols = naive.token_groups(maps.key, **switches)
        if not rows or not cols:
            with pytest.raises(InputError):
                am.shape(maps, maps.weights, **switches)
            continue
        shaped = am.shape(maps, maps.weights, **switches)
        assert shaped.weights.shape == (maps.num_layers, maps.num_heads, len(rows), len(cols))
        assert len(shaped.row_labels) == len(rows) and len(shaped.col_labels) == len(cols)
        assert not np.isnan(shaped.weights).any()
        kept = [k for col in cols for k in col]
        for layer, head in itertools.product(range(maps.num_layers), range(maps.num_heads)):
            for r, group in enumerate(rows):
                sees = any(maps.weights[layer, head, q, k] > 0 for q in group for k in kept)
                assert shaped.weights[layer, head, r].sum() == pytest.approx(1.0 if sees else 0.0, abs=ATOL)
            expected = naive.shaped_head(maps, layer, head, **switches)
            np.testing.assert_allclose(shaped.weights[layer, head], expected, atol=ATOL)
        _, matrix = am.layer_view(maps, 1, "mean", **switches)
        for r, group in enumerate(rows):
            np.testing.assert_allclose(am.focus_row(maps, group, 1, "mean", **switches), matrix[r], atol=ATOL)
    summaries = am.head_summaries(maps)
    for values in summaries.as_dict().values():
        assert values.shape == (maps.num_layers, maps.num_heads) and not np.isnan(values).any()
    assert (summaries.distance is None) == maps.cross
