"""Plot builders on synthetic arrays: no model anywhere."""

import json

import numpy as np
import plotly.io as pio
import pytest

from components.plots import (
    attention_heatmap,
    class_probability_bars,
    head_grid,
    score_bars,
)
from tests.figures import heatmap_matrices

TOKENS = ["[CLS]", "the", "cat", "saw", "the", "<s>", "[SEP]"]


def random_attention(*shape: int, seed: int = 0) -> np.ndarray:
    weights = np.random.default_rng(seed).random(shape).astype(np.float32)
    return weights / weights.sum(axis=-1, keepdims=True)


def test_heatmap_z_is_the_matrix_rows_queries_columns_keys():
    matrix = random_attention(3, 7)
    figure = attention_heatmap(matrix, TOKENS[:3], TOKENS, title="t")
    [z] = heatmap_matrices(figure.to_json())
    np.testing.assert_array_equal(z, matrix)
    trace = figure.data[0]
    assert (trace.zmin, trace.zmax) == (0.0, 1.0)
    assert list(figure.layout.meta["query_tokens"]) == TOKENS[:3]
    assert list(figure.layout.meta["key_tokens"]) == TOKENS


def test_repeated_tokens_keep_their_own_rows_and_columns():
    matrix = random_attention(7, 7)
    trace = attention_heatmap(matrix, TOKENS, TOKENS, title="t").data[0]
    # A category axis would merge the two "the": each position gets its own category.
    assert len(set(trace.x)) == len(set(trace.y)) == 7
    assert trace.x[1] != trace.x[4] and trace.x[1].startswith("the") and trace.x[4].startswith("the")


def test_ticks_show_the_tokens_and_hover_names_query_key_and_weight():
    figure = attention_heatmap(random_attention(2, 3), ["a", "b"], ["x", "y", "z"], title="t")
    assert list(figure.layout.xaxis.ticktext) == ["x", "y", "z"]
    assert list(figure.layout.yaxis.ticktext) == ["a", "b"]
    assert list(figure.layout.xaxis.tickvals) == list(figure.data[0].x)
    template = figure.data[0].hovertemplate
    assert "query: <b>%{y}</b>" in template and "key: <b>%{x}</b>" in template and "%{z:.3f}" in template


def test_tokens_are_escaped_so_they_never_render_as_html():
    payload = "<img src=x onerror=alert(1)>"
    figure = attention_heatmap(random_attention(2, 2), ["<s>", payload], ["<s>", payload], title=payload)
    text = figure.to_json()
    assert "<img" not in json.dumps(json.loads(text)["data"]) and "<img" not in str(figure.layout.xaxis.ticktext)
    assert "&lt;s&gt;" in figure.layout.yaxis.ticktext
    assert "<img" not in figure.layout.title.text


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="does not match 2 query tokens x 3 key tokens"):
        attention_heatmap(random_attention(3, 3), ["a", "b"], ["x", "y", "z"], title="t")


def test_long_inputs_thin_their_tick_labels():
    tokens = [f"t{i}" for i in range(300)]
    figure = attention_heatmap(random_attention(300, 300), tokens, tokens, title="t")
    assert len(figure.layout.xaxis.tickvals) <= 64
    assert len(figure.data[0].x) == 300  # every column is still there


def test_head_grid_has_one_heatmap_per_head_on_one_scale():
    heads = random_attention(12, 5, 5)
    figure = head_grid(heads, TOKENS[:5], TOKENS[:5], title="layer 3")
    matrices = heatmap_matrices(figure.to_json())
    assert len(matrices) == 12
    for head, z in zip(heads, matrices, strict=True):
        np.testing.assert_array_equal(z, head)
    assert (figure.layout.coloraxis.cmin, figure.layout.coloraxis.cmax) == (0.0, 1.0)


def test_score_bars_rank_highest_first():
    figure = score_bars(["a", "b", "c"], [0.2, 0.7, 0.1], title="s")
    assert list(figure.data[0].y) == ["b", "a", "c"]
    assert list(figure.data[0].x) == [0.7, 0.2, 0.1]


def test_class_probability_bars_one_trace_per_class():
    figure = class_probability_bars(["t1", "t2"], {"NEGATIVE": [0.1, 0.8], "POSITIVE": [0.9, 0.2]}, title="c")
    assert [trace.name for trace in figure.data] == ["NEGATIVE", "POSITIVE"]
    assert list(figure.data[1].x) == [0.9, 0.2]


def test_figures_round_trip_through_plotly_json():
    figure = attention_heatmap(random_attention(3, 3), ["a", "b", "c"], ["a", "b", "c"], title="t")
    assert pio.from_json(figure.to_json()).layout.title.text == "t"
