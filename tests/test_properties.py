"""Any Unicode in, no crash out: text handling, label parsing, templates and plot building.

Each input either passes with a consistent result or fails with an InputError that says what to do.
"""

from __future__ import annotations

import json
import unicodedata

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from components.explorer.bars import focus_bars
from components.explorer.figures import attention_heatmap
from components.plots import class_probability_bars, score_bars
from services.errors import InputError
from services.inputs import check_template, clean_text, parse_labels, split_lines
from tests.figures import figure_dict, heatmap_matrices

# Every code point: control characters, NUL, right-to-left marks, combining marks (zalgo), emoji, and
# lone surrogates (which JSON can carry, and no tokenizer can encode).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=300)


@given(ANY_TEXT)
@example("\ud800 x")
def test_clean_text_keeps_no_control_characters_or_says_why(text):
    try:
        cleaned = clean_text(text, max_chars=200)
    except InputError as error:
        assert "empty" in str(error) or "limit is 200" in str(error)
        return
    assert cleaned and cleaned == cleaned.strip() and len(cleaned) <= 200
    assert all(ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs") for ch in cleaned)
    cleaned.encode("utf-8")  # what a tokenizer needs


@given(ANY_TEXT)
def test_split_lines_gives_non_empty_stripped_lines_within_the_cap(text):
    try:
        lines = split_lines(text, max_items=4, max_chars=200)
    except InputError as error:
        assert "empty" in str(error) or "at most 4" in str(error) or "limit is 200" in str(error)
        return
    assert 1 <= len(lines) <= 4 and all(line and line == line.strip() and "\n" not in line for line in lines)


@given(st.one_of(ANY_TEXT, st.lists(ANY_TEXT, max_size=30)))
@example("a, \udfff b")
def test_labels_are_unique_stripped_and_capped_or_rejected_with_a_reason(labels):
    try:
        parsed = parse_labels(labels, max_labels=20, max_chars=50)
    except InputError as error:
        reasons = ("at least one candidate label", "at most 20", "at most 50", "give at most 20 short labels")
        assert any(reason in str(error) for reason in reasons), str(error)
        return
    assert 1 <= len(parsed) <= 20 and len(set(parsed)) == len(parsed)
    assert all(label and label == label.strip() and len(label) <= 50 for label in parsed)
    assert all(label.encode("utf-8") for label in parsed)


@given(ANY_TEXT)
@example("{:>999999999}")
@example("It is {0.real}{}")
def test_a_template_either_places_the_label_or_says_how(template):
    try:
        checked = check_template(template, max_chars=200)
    except InputError as error:
        assert "needs one '{}'" in str(error) or "the limit is 200" in str(error)
        return
    filled = checked.format("LABEL")
    assert "LABEL" in filled and len(filled) <= len(checked) + len("LABEL")  # no padding, no field lookups
    filled.encode("utf-8")


# Tokens come from a tokenizer's vocabulary: any valid Unicode, but never a lone surrogate.
TOKENS = st.lists(st.text(st.characters(codec="utf-8"), max_size=300), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(TOKENS, TOKENS, st.data())
def test_plots_take_any_tokens_and_keep_their_shapes_and_escape_them(rows, cols, data):
    matrix = np.asarray(
        data.draw(
            st.lists(
                st.lists(st.floats(0, 1), min_size=len(cols), max_size=len(cols)),
                min_size=len(rows),
                max_size=len(rows),
            )
        ),
        dtype=np.float32,
    )
    figure = attention_heatmap(matrix, rows, cols, title="".join(rows[:2]))
    payload = figure_dict(figure.to_json())
    np.testing.assert_array_equal(heatmap_matrices(payload)[0], matrix)
    assert payload["layout"]["meta"]["row_labels"] == rows  # raw tokens for API clients
    shown = json.dumps([payload["layout"]["xaxis"]["ticktext"], payload["layout"]["yaxis"]["ticktext"]])
    assert "<script" not in shown.lower() and "<img" not in shown.lower()
    bars = focus_bars(matrix[0], cols, title=rows[0])
    assert len(figure_dict(bars.to_json())["data"][0]["x"]) == len(cols)
    score_bars(cols, [float(v) for v in matrix[0]], title="t")
    class_probability_bars(rows, {"a": [0.5] * len(rows), "b": [0.5] * len(rows)}, title="t")
