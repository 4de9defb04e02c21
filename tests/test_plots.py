"""The shared look and the score bars, on synthetic values: no model anywhere."""

import json

import plotly.io as pio
import pytest

from components.plots import (
    NORMAL,
    PRESENTER,
    Style,
    categories,
    class_probability_bars,
    label_ticks,
    max_ticks,
    score_bars,
    short,
    style_for,
    tick_label,
)


def test_presenter_style_is_larger_and_thicker_for_the_back_of_the_room():
    assert style_for(True) is PRESENTER and style_for(False) is NORMAL
    assert PRESENTER.font_size > NORMAL.font_size and PRESENTER.line_width > NORMAL.line_width
    with pytest.raises(AttributeError):
        NORMAL.font_size = 30  # frozen: one shared look


def test_tick_labels_are_escaped_and_cut_with_an_ellipsis():
    style = Style(font_size=14, line_width=1.0, max_label_chars=6)
    assert tick_label("<s>", style) == "&lt;s&gt;"
    assert tick_label("abcdefgh", style) == "abcde…"
    # Cut before escaping, so an entity is never split in half.
    assert tick_label("<<<<<<<<", style) == "&lt;" * 5 + "…"


def test_categories_stay_unique_when_labels_repeat():
    assert categories(["the", "cat", "the"], start=10) == ["the #10", "cat #11", "the #12"]


def test_label_ticks_never_show_more_labels_than_fit():
    labels = [f"t{i}" for i in range(512)]
    ticks = label_ticks(labels, length_px=700, style=NORMAL)
    font = ticks["tickfont"]["size"]
    assert font == NORMAL.min_tick_font  # shrunk as far as it goes before thinning
    assert len(ticks["tickvals"]) <= 700 / (1.6 * font)
    assert len(ticks["tickvals"]) >= max_ticks(700, NORMAL, font_size=font) - 1  # thinned, not emptied
    assert ticks["tickvals"][0] == "t0 #0" and ticks["ticktext"][0] == "t0"


def test_label_ticks_keep_the_anchor_label():
    labels = [f"t{i}" for i in range(100)]
    ticks = label_ticks(labels, length_px=100, style=NORMAL, start=50, anchor=37)
    assert "t37 #87" in ticks["tickvals"]
    assert len(ticks["tickvals"]) <= max_ticks(100, NORMAL, font_size=ticks["tickfont"]["size"])


def test_score_bars_rank_highest_first():
    figure = score_bars(["a", "b", "c"], [0.2, 0.7, 0.1], title="s")
    assert list(figure.data[0].y) == ["b", "a", "c"]
    assert list(figure.data[0].x) == [0.7, 0.2, 0.1]
    assert list(figure.layout.xaxis.range) == [0, 1]


def test_score_bars_escape_labels_and_title():
    figure = score_bars(["<b>x</b>"], [0.5], title="<i>t</i>")
    assert list(figure.data[0].y) == ["&lt;b&gt;x&lt;/b&gt;"]
    assert figure.layout.title.text == "&lt;i&gt;t&lt;/i&gt;"


def test_class_probability_bars_one_trace_per_class():
    figure = class_probability_bars(["t1", "t2"], {"NEGATIVE": [0.1, 0.8], "POSITIVE": [0.9, 0.2]}, title="c")
    assert [trace.name for trace in figure.data] == ["NEGATIVE", "POSITIVE"]
    assert list(figure.data[1].x) == [0.9, 0.2]


@pytest.mark.parametrize("build", [score_bars, class_probability_bars])
def test_bars_take_the_presenter_style(build):
    args = (["a", "b"], [0.3, 0.7]) if build is score_bars else (["a"], {"x": [0.3], "y": [0.7]})
    normal, presenter = build(*args, title="t"), build(*args, title="t", style=PRESENTER)
    assert presenter.layout.font.size == PRESENTER.font_size > normal.layout.font.size
    assert presenter.layout.xaxis.linewidth > normal.layout.xaxis.linewidth
    assert len(json.dumps(presenter.layout.template.to_plotly_json())) < 100  # template "none": compact JSON


def test_short_collapses_whitespace_and_cuts():
    assert short("a  b\nc") == "a b c"
    assert short("x" * 50, limit=10) == "x" * 9 + "…"


def test_figures_round_trip_through_plotly_json():
    figure = score_bars(["a"], [0.5], title="t")
    assert pio.from_json(figure.to_json()).layout.title.text == "t"
