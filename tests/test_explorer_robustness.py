"""The attention explorer facing what a red team sends: a focus hidden by "Hide special tokens",
numbers Python cannot make ints of, and 100 KB values (through the app, values within the edge's limit:
larger ones never reach a handler, see test_hostile_memory).

Each case gets the message a visitor would read, or a normal result; never "Something went wrong".
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from components.explorer import lenses
from components.explorer.view import item_index, parse_view
from services.attention_maps import AttentionMaps, Step
from services.errors import InputError
from services.tokens import TokenAxis
from tests.helpers import REDRAW_OUTPUTS, explorer_outputs
from tests.http_api import raw_call

HIDDEN = "is a special token, hidden by 'Hide special tokens': showing"
TRANSLATE = {"text": "You like this house", "target_language": "French", "api_name": "/translate"}
X40 = "x" * 40
NINES40 = "9" * 40


# Synthetic runs: no model --------------------------------------------------------------------------


def axis(tokens: list[str], special: set[int]) -> TokenAxis:
    """Tokens that are each a word of their own; positions in `special` are special tokens."""
    flags = tuple(i in special for i in range(len(tokens)))
    positions = tuple(range(len(tokens)))
    return TokenAxis(tokens=tuple(tokens), ids=positions, special=flags, word_of=positions, words=tuple(tokens))


def weights(layers: int, heads: int, queries: int, keys: int) -> np.ndarray:
    """[layers, heads, queries, keys], rows summing to 1."""
    raw = np.random.default_rng(0).random((layers, heads, queries, keys)).astype(np.float32)
    return raw / raw.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def sentence():
    """An encoder's self-attention over "[CLS] the cat sat [SEP]": 2 layers x 2 heads."""
    tokens = axis(["[CLS]", "the", "cat", "sat", "[SEP]"], special={0, 4})
    return AttentionMaps(title="sentence", query=tokens, key=tokens, weights=weights(2, 2, 5, 5))


@pytest.fixture(scope="module")
def decoder():
    """A decoder's cross-attention: its first step reads from <pad>, a special token, as Marian's does."""
    target = axis(["<pad>", "le", "chat", "</s>"], special={0, 3})
    source = axis(["the", "cat", "</s>"], special={2})
    steps = (Step(query=0, token="le"), Step(query=1, token="chat"), Step(query=2, token="</s>"))
    return AttentionMaps(title="cross", query=target, key=source, weights=weights(2, 2, 4, 3), cross=True, steps=steps)


def drawn(maps: AttentionMaps, **controls):
    """What the explorer draws of `maps` for controls as a visitor sends them."""
    return lenses.draw(maps, parse_view(controls, [maps]))


# 1. A focus or step on a token that "Hide special tokens" hides --------------------------------------


@pytest.mark.parametrize(
    ("focus", "special", "shown", "position"),
    [
        ("0", "[CLS]", "the", "1"),
        ("#4", "[SEP]", "sat", "3"),
        ("[cls]", "[CLS]", "the", "1"),
        ("[SEP]", "[SEP]", "sat", "3"),
    ],
)
def test_a_hidden_special_token_in_focus_gives_way_to_the_nearest_shown_token(
    sentence, focus, special, shown, position
):
    drawing = drawn(sentence, focus=focus, hide_special=True)
    assert drawing.focus == position
    assert drawing.sentence.startswith(
        f"'{special}' is a special token, hidden by 'Hide special tokens': showing '{shown}' instead; "
        f"untick it to see '{special}'. '{shown}' attends most to"
    )
    assert position in dict((value, label) for label, value in drawing.focus_choices)


def test_a_special_token_in_focus_stays_in_focus_while_shown(sentence):
    drawing = drawn(sentence, focus="0")
    assert drawing.focus == "0" and drawing.sentence.startswith("'[CLS]' attends most to")


def test_a_decoding_step_that_reads_from_a_hidden_token_moves_to_the_next_shown_step(decoder):
    drawing = drawn(decoder, step=1, hide_special=True)
    assert (drawing.step, drawing.focus) == (2, "1")
    assert drawing.sentence.startswith(f"'<pad>' {HIDDEN} 'le' instead; untick it to see '<pad>'. Step 2 writes 'chat'")
    assert drawn(decoder, step=1).step == 1  # unticked, step 1 is shown as it is
    assert drawn(decoder, step=3, hide_special=True).step == 3


# 2 and 3. Numbers int() refuses, and 100 KB values, in every control --------------------------------

SENTENCE_MESSAGES = [
    ({"layer": math.inf}, "Layer must be a number from 1 to 2, not inf."),
    ({"layer": -math.inf}, "Layer must be a number from 1 to 2, not -inf."),
    ({"layer": math.nan}, "Layer must be a number from 1 to 2, not nan."),
    ({"layer": 1.5}, "Layer must be a number from 1 to 2, not 1.5."),
    ({"layer": "²"}, "Layer must be a number from 1 to 2, not '²'."),
    ({"layer": "9" * 5000}, f"Layer must be a number from 1 to 2, not '{NINES40}…'."),
    ({"layer": "9" * 100}, f"Layer {NINES40}… does not exist; this model has layers 1 to 2."),
    ({"layer": "x" * 100_000}, f"Layer must be a number from 1 to 2, not '{X40}…'."),
    ({"head": math.inf}, "Head must be 'mean', 'max' or a number from 1 to 2, not inf."),
    ({"head": "x" * 100_000}, f"Head must be 'mean', 'max' or a number from 1 to 2, not '{X40}…'."),
    ({"head": "9" * 100}, f"Head {NINES40}… does not exist; this model has heads 1 to 2."),
    (
        {"focus": "²"},
        "The query token in focus must be a position from 0 to 4 or a token of this input, not '²'.",
    ),
    (
        {"focus": "9" * 5000},
        f"The query token in focus must be a position from 0 to 4 or a token of this input, not '{NINES40}…'.",
    ),
    ({"focus": "7"}, "Token position 7 does not exist; this input has positions 0 to 4."),
    (
        {"focus": "x" * 100_000},
        f"'{X40}…' is not a token or word of this input; pick the query token in focus from the list, "
        "or give a position from 0 to 4.",
    ),
    ({"view": "x" * 100_000}, f"View must be one of heatmap, heads, model, not '{X40}…'."),
    ({"view": ["heatmap"]}, "View must be one of heatmap, heads, model, not ['heatmap']."),
]


@pytest.mark.parametrize(("setting", "message"), SENTENCE_MESSAGES, ids=lambda value: str(value)[:30])
def test_every_control_turns_any_value_into_a_short_message_naming_it(sentence, setting, message):
    with pytest.raises(InputError) as raised:
        drawn(sentence, **setting)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (math.nan, "Decoding step must be a whole number from 1 to 3, not nan."),
        (math.inf, "Decoding step must be a whole number from 1 to 3, not inf."),
        (1.5, "Decoding step must be a whole number from 1 to 3, not 1.5."),
        ("²", "Decoding step must be a whole number from 1 to 3, not '²'."),
        ("9" * 100, f"Step {NINES40}… does not exist; this run has steps 1 to 3."),
    ],
)
def test_a_decoding_step_that_is_not_a_whole_number_gets_a_message(decoder, step, message):
    with pytest.raises(InputError) as raised:
        parse_view({"step": step}, [decoder], focus_on_step=True)
    assert str(raised.value) == message
    with pytest.raises(InputError, match="step"):
        drawn(decoder, step=step)
    assert drawn(decoder, step=2.0).step == 2  # a slider sends floats


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (math.nan, "Text must be a number from 0 to 1, not nan."),
        (-math.inf, "Text must be a number from 0 to 1, not -inf."),
        ("x" * 100_000, f"Text must be a number from 0 to 1, not '{X40}…'."),
        (5, "Text 5 does not exist; this run has texts 0 to 1."),
    ],
)
def test_an_input_that_is_not_one_of_the_runs_gets_a_message(item, message):
    with pytest.raises(InputError) as raised:
        item_index(item, 2, label="Text")
    assert str(raised.value) == message
    assert item_index("", 2, label="Text") == 0 and item_index(1.0, 2, label="Text") == 1


# Through the app -----------------------------------------------------------------------------------


def test_hide_special_tokens_never_fails_a_translation_or_its_cross_attention(client):
    client.predict(**TRANSLATE)
    leftover = {"hide_special": True, "focus": "0", "step": 1}  # what the UI sends once the box is ticked
    for api_name in (
        "/translate_cross_attention",
        "/translate_cross_attention_step",
        "/translate_cross_attention_item",
    ):
        explored = explorer_outputs(client.predict(**leftover, api_name=api_name), names=REDRAW_OUTPUTS)
        assert HIDDEN in explored["sentence"] and "Step 2 writes" in explored["sentence"]
        assert explored["step"]["value"] == 2 and explored["focus"]["value"] == "1"
    assert client.predict(**leftover, api_name="/translate_cross_attention_export")["visible"] is True
    for _ in range(2):  # while the box stays ticked, every translation still answers
        cross = explorer_outputs(client.predict(**TRANSLATE, **leftover), 3)
        assert HIDDEN in cross["sentence"] and cross["step"]["value"] == 2


def test_hide_special_tokens_with_the_cls_token_in_focus_shows_the_first_word(client):
    explored = explorer_outputs(client.predict(text="I love food", focus="0", api_name="/attention"), 2)
    assert explored["focus"]["value"] == "0"
    redraw = client.predict(focus="0", hide_special=True, api_name="/attention_view")
    sentence = explorer_outputs(redraw, names=REDRAW_OUTPUTS)["sentence"]
    assert sentence.startswith(f"'[CLS]' {HIDDEN} 'i' instead; untick it to see '[CLS]'.")
    rerun = client.predict(text="I love food", focus="0", hide_special=True, api_name="/attention")
    assert explorer_outputs(rerun, 2)["focus"]["value"] == "1"
    outputs = client.predict(text="I love food", focus="0", hide_special=True, api_name="/sentiment")
    assert outputs[3][0]["label"] in {"POSITIVE", "NEGATIVE"} and HIDDEN in explorer_outputs(outputs, 4)["sentence"]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"focus": "²"}, "The query token in focus must be a position from 0 to 8 or a token of this input, not '²'."),
        (
            {"focus": "9" * 5000},
            f"The query token in focus must be a position from 0 to 8 or a token of this input, not '{NINES40}…'.",
        ),
        ({"layer": "x" * 5_000}, f"Layer must be a number from 1 to 2, not '{X40}…'."),
        ({"head": "x" * 5_000}, f"Head must be 'mean', 'max' or a number from 1 to 4, not '{X40}…'."),
        ({"view": "x" * 5_000}, f"View must be one of heatmap, heads, model, not '{X40}…'."),
        ({"item": "x" * 5_000}, f"Input must be a number from 0 to 0, not '{X40}…'."),
        (
            {"focus": "x" * 5_000},
            f"'{X40}…' is not a token or word of this input; pick the query token in focus from the list, "
            "or give a position from 0 to 8.",
        ),
    ],
    ids=lambda value: str(value)[:30],
)
def test_odd_and_huge_values_get_a_short_message_through_the_app(client, setting, message):
    client.predict(text="I love food", api_name="/attention")
    with pytest.raises(Exception) as raised:
        client.predict(**setting, api_name="/attention_view")
    assert str(raised.value) == message


def test_infinity_and_nan_get_a_message_naming_the_control(client):
    session = "explorer-robustness-nan"
    assert raw_call(client, "/attention", session, text="I love food")[0] == "complete"
    for layer in (math.inf, -math.inf):
        assert raw_call(client, "/attention_view", session, layer=layer) == (
            "error",
            f"Layer must be a number from 1 to 2, not {layer}.",
        )
    assert raw_call(client, "/attention_view", session, focus="1", step=math.nan)[0] == "complete"  # no steps here
    assert raw_call(client, "/generate", session, prompt="So today", max_new_tokens=3)[0] == "complete"
    event, message = raw_call(client, "/generate_attention_step", session, step=math.nan)
    assert event == "error" and message.startswith("Decoding step must be a whole number from 1 to ")
    assert message.endswith(", not nan.")
    translation = {"text": "You like this house", "target_language": "French"}
    assert raw_call(client, "/translate", session, **translation)[0] == "complete"
    event, message = raw_call(client, "/translate_cross_attention_step", session, step=math.nan)
    assert event == "error" and message.endswith(", not nan.")
    assert raw_call(client, "/translate", session, **translation, step=math.nan)[0] == "complete"  # a leftover
