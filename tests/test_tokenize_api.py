"""/tokenize through gradio_client against the launched app: every configured model's tokenizer, as that
tokenizer called directly gives it; a tokenizer that cannot load says so while the others answer; bad
text gets a message that names it."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from services.config import Settings, short_name
from tests.app_server import playground_env
from tests.http_api import raw_call

TEXT = "Tokenization isn't trivial: unbelievable GPT-2 naïve 🤗 3.14159"


def test_tokenize_takes_the_text_by_name(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [p["parameter_name"] for p in endpoints["/tokenize"]["parameters"]] == ["text"]


def test_every_configured_tokenizer_answers_as_it_does_called_directly(client, tiny_models, broken_model):
    flags, cards, raw = client.predict(text=TEXT, api_name="/tokenize")
    settings = Settings.from_env(playground_env(tiny_models, broken_model))
    configured = settings.configured_models()
    assert [entry["model"] for entry in raw] == [short_name(m.source) for m in configured]
    for model, entry in zip(configured, raw, strict=True):
        if model.source == str(broken_model):
            assert entry["error"].startswith("Could not load the tokenizer of 'broken'")
            assert str(broken_model.parent) not in entry["error"]  # no server path
            continue
        tokenizer = AutoTokenizer.from_pretrained(model.source)
        ids = tokenizer(TEXT)["input_ids"]
        assert entry["ids"] == ids
        assert entry["tokens"] == tokenizer.convert_ids_to_tokens(ids)
        assert entry["count"] == len(ids) and entry["decoded"] == tokenizer.decode(ids)
        assert entry["algorithm"] in ("WordPiece", "BPE (byte-level)", "Unigram (SentencePiece)")
    by_model = {entry["model"]: entry for entry in raw}
    assert by_model["attention"]["special_tokens"] == ["[CLS]", "[SEP]"]
    assert by_model["translation_fr"]["uses"] == ["translation to French"]
    assert "tok-card" in cards and "Differences that teach" in flags
    assert str(tiny_models["attention"]) not in cards + flags  # models are named, never by their server path


def test_typed_html_comes_back_as_text(client):
    flags, cards, raw = client.predict(text="<img src=x onerror=alert(1)> hi", api_name="/tokenize")
    assert "<img" not in cards and "<img" not in flags
    assert "&lt;img" in cards
    assert any("<" in token for entry in raw if "tokens" in entry for token in entry["tokens"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   \n\t ", "The text is empty"),
        ("\x00\x01", "The text is empty"),
        (["not", "text"], "must be given as text"),
    ],
    ids=["blank", "control characters", "a list"],
)
def test_bad_text_is_named_and_the_app_goes_on(client, text, message):
    event, data = raw_call(client, "/tokenize", text=text)
    assert event == "error" and message in str(data), data
    assert client.predict(text="fine", api_name="/tokenize")[2]


def test_a_text_past_the_limit_is_refused_with_its_length(client):
    with pytest.raises(Exception, match=r"10,001 characters long; no control of this app accepts more than 10,000"):
        client.predict(text="x" * 10_001, api_name="/tokenize")
    assert client.predict(text="x" * 10_000, api_name="/tokenize")[2][0]["count"] > 0


def test_odd_unicode_is_tokenized(client):
    event, data = raw_call(client, "/tokenize", text="\ud800 zero\u200bwidth ‮rtl‬ 𝔘𝔫𝔦 e\u0301")
    assert event == "complete", data
    assert all(entry.get("count", 1) > 0 for entry in data[2])
