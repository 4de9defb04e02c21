"""Inputs a browser would never send but an API client can: each gets a message that names the setting
and what is allowed, and none takes the server's memory. Found by red-teaming the launched app."""

from __future__ import annotations

import math

import pytest

from services.errors import InputError
from services.inputs import check_template, clean_text, model_for, parse_labels, real_number, whole_number
from tests.http_api import raw_call

ZERO_SHOT = {"text": "Hi", "labels": "a, b", "api_name": "/zero_shot"}
GENERATE = {"prompt": "So today", "max_new_tokens": 4, "api_name": "/generate"}


@pytest.mark.parametrize("template", ["{:>999999999}", "{0.real}", "{0[x]}", "{!r}", "{0}", "{label}", "{}{}"])
def test_a_template_with_anything_but_a_plain_placeholder_is_refused(template):
    with pytest.raises(InputError, match=r"needs one '\{\}' where the label goes"):
        check_template(template)


def test_templates_and_labels_have_length_limits():
    assert check_template("Is it {}? {{Braces}} stay.") == "Is it {}? {{Braces}} stay."
    with pytest.raises(InputError, match="201 characters long; the limit is 200"):
        check_template("x" * 198 + "{}.", max_chars=200)
    with pytest.raises(InputError, match="101 characters long; a label may have at most 100"):
        parse_labels("food, " + "y" * 101, max_labels=20, max_chars=100)
    with pytest.raises(InputError, match="give at most 20 short labels"):
        parse_labels("z" * 10**6, max_labels=20, max_chars=100)
    with pytest.raises(InputError, match="at least one candidate label"):
        parse_labels(None, max_labels=20)


def test_lone_surrogates_are_dropped_like_control_characters():
    assert clean_text("\ud800 I love food \udfff", max_chars=100) == "I love food"
    assert parse_labels("food, \ud800sports", max_labels=5) == ["food", "sports"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "x", None, [1]])
def test_a_setting_that_is_not_a_finite_number_is_named(value):
    with pytest.raises(InputError, match=r"^max_new_tokens must be a (finite )?number"):
        whole_number(value, "max_new_tokens")
    assert whole_number(40.0, "max_new_tokens") == 40 and real_number("0.5", "top_p") == 0.5


def test_a_language_that_is_not_a_name_is_refused():
    with pytest.raises(InputError, match=r"Target language \['French'\] is not one this app translates to"):
        model_for(["French"], {"French": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (ZERO_SHOT | {"hypothesis_template": "{:>999999999}"}, "needs one '{}'"),
        (ZERO_SHOT | {"labels": "food, " + "y" * 200}, "a label may have at most 100"),
        (GENERATE | {"max_new_tokens": math.nan}, "max_new_tokens must be a finite number"),
        (GENERATE | {"top_p": math.nan}, "top_p must be a finite number"),
        ({"text": "hi", "target_language": "French", "num_beams": math.nan, "api_name": "/translate"}, "beams"),
    ],
)
def test_the_app_names_the_bad_setting(client, kwargs, message):
    event, data = raw_call(client, **kwargs)
    assert event == "error" and message in data, data
    assert client.predict(text="I love food", api_name="/sentiment")[3]  # and goes on answering


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_name": "/sentiment"},
        {"labels": "animals, streets", "api_name": "/zero_shot"},
        {"max_new_tokens": 2, "api_name": "/generate"},
        {"target_language": "French", "api_name": "/translate"},
        {"api_name": "/attention"},
    ],
)
def test_text_with_lone_surrogates_gets_an_answer(client, kwargs):
    text = "\ud800 The animal didn't cross the street \udfff"
    event, data = raw_call(client, **{"prompt" if kwargs["api_name"] == "/generate" else "text": text} | kwargs)
    assert event == "complete", data
