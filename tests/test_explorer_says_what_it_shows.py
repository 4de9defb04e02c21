"""The explorer says what it shows: its colour range, the switches in force (and when they change nothing),
the decoder's start token, the focus token in every grid, and which heads stand out.

Synthetic attention where the answer is known by construction; a tiny Marian for the decoder's start.
"""

from __future__ import annotations

import numpy as np
import pytest

from components.explorer import lenses, shaping
from components.explorer.figures import attention_heatmap
from components.explorer.summary_figure import summary_figure, summary_heatmaps
from components.explorer.view import parse_view
from components.plots import NORMAL
from services import translation
from services.attention_maps import AttentionMaps
from services.errors import InputError
from services.tokens import TokenAxis
from tests.figures import figure_dict

LAYERS, HEADS = 2, 3


def axis(tokens, special=None, word_of=None, texts=None) -> TokenAxis:
    n = len(tokens)
    word_of = tuple(word_of or range(n))
    words = tuple(dict.fromkeys(word_of))
    return TokenAxis(
        tokens=tuple(tokens),
        ids=tuple(range(n)),
        special=tuple(special or [False] * n),
        word_of=word_of,
        words=tuple(str(w) for w in words),
        texts=tuple(texts or ()),
    )


@pytest.fixture
def maps() -> AttentionMaps:
    """[CLS] the Ġcat s [SEP]: 'cat' + 's' one word. Layer 2 head 3 is a previous-token head; layer 1 head 2
    looks only at [CLS] (a sink); layer 2 head 1 spreads evenly (broadest)."""
    tokens = ("[CLS]", "the", "Ġcat", "s", "[SEP]")
    n = len(tokens)
    rng = np.random.default_rng(0)
    weights = rng.random((LAYERS, HEADS, n, n)).astype(np.float32) + 0.5
    weights[0, 1] = 0.0
    weights[0, 1, :, 0] = 1.0
    weights[1, 0] = 1.0
    weights[1, 2] = np.eye(n, k=-1)
    weights[1, 2, 0, 0] = 1.0
    weights /= weights.sum(-1, keepdims=True)
    token_axis = axis(tokens, special=(True, False, False, False, True), word_of=(0, 1, 2, 2, 3))
    token_axis = TokenAxis(**{**token_axis.__dict__, "texts": ("[CLS]", "the", "cat", "s", "[SEP]")})
    return AttentionMaps(title="toy", query=token_axis, key=token_axis, weights=weights)


def draw(maps, **controls):
    return lenses.draw(maps, parse_view(controls, [maps]))


def title(figure) -> str:
    """The figure's title as one line (titles wrap onto lines with <br>)."""
    return figure.layout.title.text.replace("<br>", " ")


def colour_range(figure) -> tuple[float, float, str]:
    data = figure_dict(figure.to_json())
    trace = data["data"][0]
    if "coloraxis" in data["layout"]:
        coloraxis = data["layout"]["coloraxis"]
        return coloraxis["cmin"], coloraxis["cmax"], coloraxis["colorbar"]["title"]["text"]
    return trace["zmin"], trace["zmax"], trace["colorbar"]["title"]["text"]


# Colour scale -----------------------------------------------------------------------------------------


def test_auto_fits_the_colours_for_a_mean_of_heads_and_keeps_0_to_1_for_one_head(maps):
    mean = draw(maps, head="mean")
    low, high, title = colour_range(mean.main)
    assert (low, high) == pytest.approx((mean.matrix.min(), mean.matrix.max()))
    assert title == f"weight<br>{low:.2f}–{high:.2f}<br>(fit)"
    assert colour_range(draw(maps, head="2").main) == (0.0, 1.0, "weight<br>0–1")
    assert colour_range(draw(maps, head="2", hide_special=True).main)[2].endswith("(fit)")


def test_a_causal_first_row_does_not_set_the_fitted_range():
    tokens = axis(["So", "today", "I", "feel"])
    weights = np.tril(np.ones((4, 4), dtype=np.float32))[None, None] * np.float32(1)
    weights[..., 3, :] = [0.7, 0.1, 0.1, 0.1]
    weights /= weights.sum(-1, keepdims=True)
    causal = AttentionMaps(title="t", query=tokens, key=tokens, weights=weights)
    low, high, _ = colour_range(draw(causal, head="mean").main)
    assert (low, high) == pytest.approx((0.0, 0.7))  # row 0 attends 1.0 to itself whatever the model does


def test_the_visitor_can_choose_0_to_1_or_fit(maps):
    assert colour_range(draw(maps, head="max", color_scale="fixed").main)[:2] == (0.0, 1.0)
    assert colour_range(draw(maps, head="1", color_scale="fit").main)[2].endswith("(fit)")
    assert colour_range(draw(maps, view="heads", hide_special=True).main)[2].endswith("(fit)")
    assert colour_range(draw(maps, view="model").main)[:2] == (0.0, 1.0)
    with pytest.raises(InputError, match="Colour scale must be one of auto, fixed, fit"):
        draw(maps, color_scale="rainbow")


# Switches ---------------------------------------------------------------------------------------------


def test_titles_state_the_switches_in_force(maps):
    for mode in ("heatmap", "heads", "model"):
        shown = title(draw(maps, view=mode, merge_words=True, hide_special=True).main)
        assert "words merged" in shown and "special tokens hidden" in shown
        assert "merged" not in title(draw(maps, view=mode).main)


def test_a_switch_that_changes_nothing_says_so():
    plain = axis(["the", "cat", "sat"])
    weights = np.full((1, 1, 3, 3), 1 / 3, dtype=np.float32)
    maps = AttentionMaps(title="t", query=plain, key=plain, weights=weights)
    sentence = draw(maps, merge_words=True, hide_special=True).sentence
    assert sentence.startswith("No word here is split into pieces, so 'Merge words' changes nothing.")
    assert "This input has no special tokens, so 'Hide special tokens' changes nothing." in sentence
    assert "changes nothing" not in draw(maps).sentence


def test_switches_that_change_something_stay_quiet(maps):
    assert "changes nothing" not in draw(maps, merge_words=True, hide_special=True).sentence


# Focus and heads --------------------------------------------------------------------------------------


def test_focus_accepts_the_raw_piece_and_its_readable_text(maps):
    for name in ("Ġcat", "cat"):
        assert parse_view({"focus": name}, [maps]).focus == 2


def test_grids_outline_the_focus_row_in_every_panel(maps):
    for mode, panels in (("heads", HEADS), ("model", LAYERS * HEADS)):
        figure = draw(maps, view=mode, focus="the").main
        shapes = figure.layout.shapes
        assert len(shapes) == panels and {(s.y0, s.y1) for s in shapes} == {(0.5, 1.5)}
        assert "the row of 'the'" in title(figure)


def test_find_head_finds_where_a_query_attends_most_to_a_key(maps):
    assert shaping.find_head(maps, [3], [2], {"merge_words": False, "hide_special": False}) == (2, 3, 1.0)
    layer, head, weight = shaping.find_head(maps, [1], [0], {"merge_words": False, "hide_special": False})
    assert (layer, head) == (1, 2) and weight == pytest.approx(1.0)
    # Merged, 'cat' stands for 'cat' + 's': the word's row is the mean of its pieces'.
    layer, head, weight = shaping.find_head(maps, [2], [1], {"merge_words": True, "hide_special": False})
    assert (layer, head) == (2, 3) and weight == pytest.approx(0.5)
    with pytest.raises(InputError, match="hidden by 'Hide special tokens'"):
        shaping.find_head(maps, [1], [0], {"merge_words": False, "hide_special": True})


def test_the_strongest_heads_of_each_kind_are_named_in_one_sentence(maps):
    sentence = shaping.strongest_heads(shaping.head_summaries(maps))
    assert sentence.startswith("previous-token head: L2 H3 (")
    assert "broadest: L2 H1 (" in sentence and "sink: L1 H2 (" in sentence


def test_the_summary_subtitle_names_them(maps):
    figure = summary_figure(maps, style=NORMAL)
    assert "previous-token head: L2 H3" in title(figure)
    assert figure.layout.meta["strongest"].startswith("previous-token head")


def test_cell_numbers_only_where_they_can_be_read():
    def text_size(layers, heads):
        figure = summary_heatmaps({"a": np.zeros((layers, heads)), "b": np.zeros((layers, heads))}, title="t")
        return figure.data[0].textfont.size if figure.data[0].texttemplate else 0

    assert text_size(6, 12) >= 10  # one panel a row, so MiniLM's 12 heads keep readable numbers
    assert text_size(30, 40) == 0  # too many to read: the hover gives them


# Plot size --------------------------------------------------------------------------------------------


def test_45_tokens_show_every_row_label_at_a_readable_size():
    labels = [f"w{i}" for i in range(45)]
    figure = attention_heatmap(np.full((45, 45), 1 / 45, dtype=np.float32), labels, labels, title="t")
    assert len(figure.layout.yaxis.tickvals) == 45 and figure.layout.yaxis.tickfont.size == NORMAL.font_size
    # The columns share the 720 px column's width: their labels shrink to the smallest size before thinning.
    assert figure.layout.xaxis.tickfont.size == NORMAL.min_tick_font and len(figure.layout.xaxis.tickvals) >= 22
    few = attention_heatmap(np.full((45, 30), 1 / 30, dtype=np.float32), labels, labels[:30], title="t")
    assert len(few.layout.xaxis.tickvals) == 30 and few.layout.xaxis.tickfont.size < NORMAL.font_size


# The decoder's start token ----------------------------------------------------------------------------


def test_marians_start_row_is_explained_when_shown(tiny_models):
    models = {"fr": str(tiny_models["translation_fr"])}
    cross = translation.translate("You like this house", "fr", models=models, max_new_tokens=6).cross_attention
    assert cross.query.starts_decoder and cross.query.tokens[0] == "<pad>"
    drawing = draw(cross, focus="0")
    assert "'<pad>' (the decoder's start token) attends most to" in drawing.sentence
    assert "the decoder's start token" in title(drawing.main)
    assert "start token" not in title(draw(cross, focus="0", hide_special=True).main)
