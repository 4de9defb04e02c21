"""Clean edges, as a red team found them: messages that always encode, no cleaning before the length
check, no server paths, addresses or dashboard keys, no tracebacks for a wrong type, inert CSV cells.
Through the launched app on loopback, or on the functions themselves."""

from __future__ import annotations

import csv
import io
import logging
import re

import httpx
import numpy as np
import pytest

from components.explorer.export import matrix_csv
from services import inputs
from services.errors import InputError
from tests.http_api import raw_call

SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("kwargs", "control"),
    [
        ({"text": "hi", "target_language": SURROGATE, "api_name": "/translate"}, "Target language"),
        ({"text": "hi", "num_beams": SURROGATE, "api_name": "/translate"}, "number of beams"),
        ({"text": "hi", "model": SURROGATE, "api_name": "/attention"}, "Model"),
        ({"prompt": "hi", "do_sample": True, "temperature": SURROGATE, "api_name": "/generate"}, "temperature"),
        ({"prompt": "hi", "max_new_tokens": SURROGATE, "api_name": "/generate"}, "max_new_tokens"),
    ],
    ids=["target_language", "num_beams", "model", "temperature", "max_new_tokens"],
)
def test_a_lone_surrogate_in_a_setting_gets_a_message_that_can_be_sent(client, kwargs, control):
    event, message = raw_call(client, **kwargs)
    assert event == "error" and control in message, message
    message.encode("utf-8")  # the visitor's value is quoted escaped: '\ud800', never the raw character
    assert "\\ud800" in message


def test_echo_and_shorten_escape_what_cannot_be_encoded():
    assert inputs.echo(SURROGATE + "x") == "'\\ud800x'"
    assert inputs.shorten("a" + SURROGATE).encode("utf-8") == b"a\\ud800"
    assert inputs.echo(10**5000) == "a int too long to show"  # repr() would raise
    assert len(inputs.echo("y" * 10**6)) < 50


def test_the_length_is_checked_before_any_cleaning(monkeypatch):
    cleaned = []
    usable = inputs.usable
    monkeypatch.setattr(inputs, "usable", lambda text: cleaned.append(len(text)) or usable(text))
    with pytest.raises(InputError, match="1,000,000 characters long; the limit is 10,000"):
        inputs.clean_text("a\x01" * 500_000, max_chars=10_000)
    with pytest.raises(InputError, match="is 1,000 characters long; the limit is 200"):
        inputs.check_template("{}" * 500, max_chars=200)
    assert cleaned == []  # not one pass over the oversized text


def test_no_server_path_or_memory_address_reaches_the_page(client, tiny_models):
    config = httpx.get(f"{client.src.rstrip('/')}/config", timeout=30).text
    assert not re.findall(r"0x[0-9a-f]{6,}", config)  # a function's address, once shown by a gr.State
    for folder in tiny_models.values():
        assert str(folder) not in config  # the attention tab's model choices once were local paths


def test_a_load_error_names_the_model_without_its_path(client, broken_model):
    event, message = raw_call(client, "/translate", text="hi", target_language="Broken")
    assert event == "error" and re.search(r"Could not load the model '(app\d+/)?broken'", message), message
    assert str(broken_model.parent) not in message


def test_the_monitoring_dashboard_is_closed(client):
    for path in ("monitoring", "monitoring/summary"):
        response = httpx.get(f"{client.src.rstrip('/')}/{path}", timeout=30)
        assert response.status_code != 200, path  # its page printed the dashboard key to the log


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": 5, "api_name": "/sentiment"}, "The text must be given as text (a string), not 5."),
        ({"text": "hi", "text_pair": 5, "api_name": "/attention"}, "The second sentence must be given as text"),
        ({"text": "hi", "model": ["x"], "api_name": "/attention"}, "Model ['x'] is not one of this app's models"),
        ({"text": "hi", "labels": 5, "api_name": "/zero_shot"}, "The labels must be text"),
        ({"text": ["hi"], "target_language": "French", "api_name": "/translate"}, "The text must be given as text"),
        ({"prompt": {"a": 1}, "api_name": "/generate"}, "The prompt must be given as text"),
    ],
    ids=["sentiment", "text_pair", "model", "labels", "translate", "generate"],
)
def test_a_value_of_the_wrong_type_gets_a_message_and_no_traceback_in_the_log(client, caplog, kwargs, message):
    with caplog.at_level(logging.INFO):
        event, data = raw_call(client, **kwargs)
    assert event == "error" and data.startswith(message), data
    assert "Traceback" not in caplog.text and "Unexpected error" not in caplog.text


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    labels = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tTAB", "plain", "a=b"]
    text = matrix_csv(np.full((1, len(labels)), 0.5, dtype=np.float32), ["=cmd|' /C calc'!A0"], labels)
    header, row = csv.reader(io.StringIO(text))
    assert header[1:] == ["'" + label for label in labels[:5]] + ["plain", "a=b"]
    assert row[0] == "'=cmd|' /C calc'!A0"
