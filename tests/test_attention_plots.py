"""Attention figures on synthetic arrays, read back from their JSON as a client would: no model anywhere."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

from components.explorer.bars import focus_bars, top_tokens_bars
from components.explorer.figures import MAX_HEIGHT, attention_heatmap, head_grid
from components.plots import ASSUMED_WIDTH, NORMAL, PRESENTER, SIDE_WIDTH, TOP, tick_spacing
from tests.figures import decode_array, figure_dict, heatmap_matrices

TOKENS = ["[CLS]", "the", "cat", "saw", "the", "<s>", "[SEP]"]
SCRIPT = "<script>alert(1)</script>"
VIRIDIS_ENDS = ("#440154", "#fde725")


def random_attention(*shape: int, seed: int = 0) -> np.ndarray:
    weights = np.random.default_rng(seed).random(shape).astype(np.float32)
    return weights / weights.sum(axis=-1, keepdims=True)


def without_meta(figure) -> str:
    data = figure_dict(figure.to_json())
    data["layout"].pop("meta", None)
    return json.dumps(data)


# attention_heatmap


def test_heatmap_z_is_the_matrix_as_float32_rows_queries_columns_keys():
    matrix = random_attention(3, 7)
    figure = attention_heatmap(matrix, TOKENS[:3], TOKENS, title="t")
    trace = figure_dict(figure.to_json())["data"][0]
    assert trace["z"]["dtype"] == "f4"
    np.testing.assert_array_equal(decode_array(trace["z"]), matrix)
    assert (trace["zmin"], trace["zmax"]) == (0.0, 1.0)
    assert trace["colorbar"]["title"]["text"] == "weight<br>0–1"  # the colour bar states its range
    assert (trace["colorscale"][0][1], trace["colorscale"][-1][1]) == VIRIDIS_ENDS
    assert figure.layout.template.layout.to_plotly_json() == {}


def test_heatmap_zmax_sets_the_top_of_the_colour_scale():
    figure = attention_heatmap(random_attention(2, 2) / 4, ["a", "b"], ["a", "b"], title="t", zmax=0.25)
    assert figure.data[0].zmax == 0.25


def test_meta_carries_the_raw_labels_and_the_window_start():
    figure = attention_heatmap(random_attention(2, 3), ["<s>", SCRIPT], ["x", "y", "z"], title="t", row_start=5)
    assert figure_dict(figure.to_json())["layout"]["meta"] == {
        "row_labels": ["<s>", SCRIPT],
        "col_labels": ["x", "y", "z"],
        "row_start": 5,
    }


def test_repeated_tokens_keep_their_own_rows_and_columns():
    trace = attention_heatmap(random_attention(7, 7), TOKENS, TOKENS, title="t").data[0]
    # A category axis would merge the two "the": each position gets its own category.
    assert len(set(trace.x)) == len(set(trace.y)) == 7
    assert (trace.x[1], trace.x[4]) == ("the #1", "the #4")


def test_window_rows_are_numbered_from_row_start():
    figure = attention_heatmap(random_attention(2, 7), TOKENS[3:5], TOKENS, title="t", row_start=3)
    assert list(figure.data[0].y) == ["saw #3", "the #4"]
    assert list(figure.layout.yaxis.ticktext) == ["saw", "the"]


def test_ticks_show_the_tokens_and_hover_names_query_key_and_weight():
    figure = attention_heatmap(random_attention(2, 3), ["a", "b"], ["x", "y", "z"], title="t")
    assert list(figure.layout.xaxis.ticktext) == ["x", "y", "z"]
    assert list(figure.layout.yaxis.ticktext) == ["a", "b"]
    assert list(figure.layout.xaxis.tickvals) == list(figure.data[0].x)
    trace = figure.data[0]
    assert "query: <b>%{y}</b>" in trace.hovertemplate and "key: <b>%{x}</b>" in trace.hovertemplate
    assert "%{z:.3f}" in trace.hovertemplate
    assert trace.customdata is None  # labels come from the categories: no per-cell payload


def test_tokens_are_escaped_everywhere_they_are_shown_and_raw_in_meta():
    labels = ["<s>", SCRIPT]
    figure = attention_heatmap(random_attention(2, 2), labels, labels, title=SCRIPT, highlight_row=1)
    assert "<script>" not in without_meta(figure) and "<s>" not in without_meta(figure)
    assert "&lt;script&gt;" in figure.layout.xaxis.ticktext[1]
    assert figure.data[0].x[1] == "&lt;script&gt;alert(1)&lt;/script&gt; #1"  # full label in the hover
    assert figure.layout.title.text == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert figure.layout.meta["row_labels"] == labels


def test_long_labels_are_cut_on_ticks_but_whole_in_hover():
    label = "a" * 40
    figure = attention_heatmap(random_attention(1, 1), [label], [label], title="t")
    assert figure.layout.xaxis.ticktext[0] == "a" * (NORMAL.max_label_chars - 1) + "…"
    assert figure.data[0].x[0] == f"{label} #0"


@pytest.mark.parametrize("style", [NORMAL, PRESENTER])
def test_512_tokens_show_no_more_tick_labels_than_the_axis_has_room_for(style):
    tokens = [f"t{i}" for i in range(512)]
    figure = attention_heatmap(random_attention(512, 512), tokens, tokens, title="t", style=style)
    layout = figure.layout
    assert layout.height - (layout.margin.t - TOP) <= MAX_HEIGHT  # a long title's lines come on top
    x_px = ASSUMED_WIDTH - layout.margin.l - layout.margin.r
    y_px = layout.height - layout.margin.t - layout.margin.b
    # Fonts shrink to the style's smallest before labels are left out, and those left never overlap.
    assert layout.xaxis.tickfont.size == layout.yaxis.tickfont.size == style.min_tick_font
    assert len(layout.xaxis.tickvals) <= x_px / tick_spacing(style.min_tick_font, layout.xaxis.tickangle)
    assert len(layout.yaxis.tickvals) <= y_px / tick_spacing(style.min_tick_font)
    assert len(layout.xaxis.tickvals) >= 10  # thinned, not emptied
    assert layout.xaxis.tickangle in (-60, -90)
    assert len(figure.data[0].x) == 512  # every column is still there


def test_a_short_input_shows_every_label():
    figure = attention_heatmap(random_attention(7, 7), TOKENS, TOKENS, title="t", style=PRESENTER)
    assert len(figure.layout.xaxis.tickvals) == len(figure.layout.yaxis.tickvals) == 7


def test_presenter_style_has_larger_fonts_and_thicker_lines():
    normal = attention_heatmap(random_attention(3, 3), TOKENS[:3], TOKENS[:3], title="t")
    presenter = attention_heatmap(random_attention(3, 3), TOKENS[:3], TOKENS[:3], title="t", style=PRESENTER)
    assert presenter.layout.font.size == PRESENTER.font_size > normal.layout.font.size
    assert presenter.layout.xaxis.tickfont.size > normal.layout.xaxis.tickfont.size
    assert presenter.layout.title.font.size > normal.layout.title.font.size
    for axis in ("xaxis", "yaxis"):
        assert presenter.layout[axis].linewidth > normal.layout[axis].linewidth
        assert presenter.layout[axis].tickwidth > normal.layout[axis].tickwidth


def test_highlight_outlines_the_focused_row_of_the_window():
    tokens = [f"t{i}" for i in range(300)]
    figure = attention_heatmap(
        random_attention(100, 300), tokens[100:200], tokens, title="t", row_start=100, highlight_row=137
    )
    [shape] = figure.layout.shapes
    assert shape.type == "rect" and (shape.xref, shape.yref) == ("x", "y")
    assert (shape.y0 + shape.y1) / 2 == 37 and shape.y1 - shape.y0 == 1  # row 37 of the window is token 137
    assert figure.data[0].y[37] == "t137 #137"
    assert (shape.x0, shape.x1) == (-0.5, 299.5)
    # Its label is shown, in bold, even though the axis is thinned.
    assert "<b>t137</b>" in figure.layout.yaxis.ticktext
    assert "t137 #137" in figure.layout.yaxis.tickvals


@pytest.mark.parametrize("highlight_row", [None, 99, 200])
def test_no_outline_when_the_focused_row_is_outside_the_window(highlight_row):
    tokens = [f"t{i}" for i in range(300)]
    figure = attention_heatmap(
        random_attention(100, 300), tokens[100:200], tokens, title="t", row_start=100, highlight_row=highlight_row
    )
    assert figure.layout.shapes == ()


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="does not match 2 query tokens x 3 key tokens"):
        attention_heatmap(random_attention(3, 3), ["a", "b"], ["x", "y", "z"], title="t")


def test_figures_round_trip_through_plotly_json():
    figure = attention_heatmap(random_attention(3, 3), ["a", "b", "c"], ["a", "b", "c"], title="t")
    assert pio.from_json(figure.to_json()).layout.title.text == "t"


# head_grid


def test_head_grid_has_one_heatmap_per_head_on_one_scale():
    heads = random_attention(12, 5, 5)
    titles = [f"Head {h + 1}" for h in range(12)]
    figure = head_grid(heads, TOKENS[:5], TOKENS[:5], panel_titles=titles, title="layer 3")
    matrices = heatmap_matrices(figure.to_json())
    assert len(matrices) == 12
    for head, z in zip(heads, matrices, strict=True):
        np.testing.assert_array_equal(z, head)
    assert {trace.coloraxis for trace in figure.data} == {"coloraxis"}
    coloraxis = figure.layout.coloraxis
    assert (coloraxis.cmin, coloraxis.cmax) == (0.0, 1.0)
    assert (coloraxis.colorscale[0][1], coloraxis.colorscale[-1][1]) == VIRIDIS_ENDS
    assert [a.text for a in figure.layout.annotations] == titles
    assert figure.layout.meta["row_labels"] == TOKENS[:5]
    assert {trace["z"]["dtype"] for trace in figure_dict(figure.to_json())["data"]} == {"f4"}
    with pytest.raises(ValueError, match="one title a panel"):
        head_grid(heads, TOKENS[:5], TOKENS[:5], panel_titles=titles[:3], title="t")


def test_head_grid_hides_ticks_and_keeps_labels_in_the_hover():
    figure = head_grid(random_attention(2, 2, 2), ["<s>", "a"], ["<s>", "a"], panel_titles=["<b>", "x"], title="t")
    assert figure.layout.xaxis.showticklabels is False and figure.layout.yaxis2.showticklabels is False
    assert figure.data[0].y[0] == "&lt;s&gt; #0"
    assert figure.layout.annotations[0].text == "&lt;b&gt;"
    assert "&lt;b&gt;" in figure.data[0].hovertemplate


def test_head_grid_grows_with_its_rows_of_panels():
    heights = [
        head_grid(random_attention(n, 4, 4), TOKENS[:4], TOKENS[:4], panel_titles=["h"] * n, title="t").layout.height
        for n in (4, 8, 12)
    ]
    assert heights[0] < heights[1] < heights[2]


def panel_pixels(figure, n: int) -> tuple[float, float]:
    layout = figure.layout
    suffix = "" if n == 1 else str(n)
    (x0, x1), (y0, y1) = layout[f"xaxis{suffix}"].domain, layout[f"yaxis{suffix}"].domain
    width = ASSUMED_WIDTH - layout.margin.l - layout.margin.r
    height = layout.height - layout.margin.t - layout.margin.b
    return (x1 - x0) * width, (y1 - y0) * height


def test_model_view_of_24_layers_by_16_heads_has_square_panels():
    layers, heads = 24, 16
    titles = [f"L{layer + 1} H{head + 1}" for layer in range(layers) for head in range(heads)]
    panels = random_attention(layers * heads, 3, 3)
    figure = head_grid(panels, TOKENS[:3], TOKENS[:3], panel_titles=titles, title="model", columns=heads)
    assert len(figure.data) == layers * heads
    assert figure.layout.xaxis16.anchor == "y16" and figure.layout.xaxis17.domain == figure.layout.xaxis.domain
    for n in (1, 16, 17, layers * heads):
        width, height = panel_pixels(figure, n)
        assert 0.85 < width / height < 1.15
        assert width > 20


# focus_bars


def test_focus_bars_highlight_and_label_the_argmax():
    weights = np.array([0.1, 0.6, 0.2, 0.1], dtype=np.float32)
    figure = focus_bars(weights, ["a", "b", "c", "a"], title="t")
    bars = figure_dict(figure.to_json())["data"][0]
    assert bars["y"]["dtype"] == "f4"
    np.testing.assert_array_equal(decode_array(bars["y"]), weights)
    colors = list(figure.data[0].marker.color)
    assert colors[1] != colors[0] and len(set(colors[:1] + colors[2:])) == 1
    [note] = figure.layout.annotations
    assert (note.x, note.text) == (figure.data[0].x[1], "0.60")
    assert list(figure.layout.yaxis.range) == pytest.approx([0, 0.69])
    assert figure.data[0].x[0] != figure.data[0].x[3]  # the two "a" stay apart
    assert figure.layout.meta["col_labels"] == ["a", "b", "c", "a"]


def test_focus_bars_highlight_every_tied_maximum_and_keep_a_visible_range():
    figure = focus_bars(np.array([0.0, 0.01, 0.01], dtype=np.float32), ["x", "y", "z"], title="t")
    colors = list(figure.data[0].marker.color)
    assert colors[1] == colors[2] != colors[0]
    assert list(figure.layout.yaxis.range) == [0, 0.05]


def test_focus_bars_thin_and_escape_labels():
    tokens = [SCRIPT] + [f"t{i}" for i in range(511)]
    figure = focus_bars(random_attention(512), tokens, title="t")
    xaxis = figure.layout.xaxis
    assert len(xaxis.tickvals) <= SIDE_WIDTH / tick_spacing(xaxis.tickfont.size, xaxis.tickangle)
    assert figure.layout.xaxis.ticktext[0].startswith("&lt;script")
    with pytest.raises(ValueError, match="do not match 3 key tokens"):
        focus_bars(random_attention(2), ["a", "b", "c"], title="t")


# top_tokens_bars


def test_top_tokens_show_before_and_after_most_likely_on_top_and_mark_the_chosen():
    tokens = [" the", " a", "<s>"]
    figure = top_tokens_bars(tokens, [0.5, 0.3, 0.2], [0.6, 0.4, 0.0], 1, title="step 1")
    before, after = figure.data
    assert (before.name, after.name) == ("before: softmax of the logits", "after: temperature, top-k, top-p")
    assert before.orientation == after.orientation == "h"
    np.testing.assert_array_equal(
        decode_array(figure_dict(figure.to_json())["data"][1]["x"]), np.float32([0.6, 0.4, 0])
    )
    assert figure.layout.yaxis.autorange == "reversed" and list(figure.layout.yaxis.tickvals) == list(before.y)
    ticks = list(figure.layout.yaxis.ticktext)
    assert "▶" in ticks[1] and "a" in ticks[1]
    assert ticks[2] == "&lt;s&gt;" and "▶" not in ticks[0]
    for trace in (before, after):
        widths = list(trace.marker.line.width)
        assert widths[1] > 0 and widths[0] == widths[2] == 0
    assert list(figure.layout.xaxis.range) == [0, 1]
    assert list(before.text) == ["50.0%", "30.0%", "20.0%"]
    assert figure.layout.barmode == "group"


def test_top_tokens_keep_repeated_tokens_apart_and_reject_mismatched_lengths():
    figure = top_tokens_bars(["x", "x"], [0.5, 0.5], [0.5, 0.5], 0, title="t")
    assert len(set(figure.data[0].y)) == 2
    with pytest.raises(ValueError, match="2 tokens"):
        top_tokens_bars(["x", "y"], [1.0], [1.0], 0, title="t")
