"""Every endpoint through gradio_client, against the app launched here and configured by the
environment, with its numbers and plots compared to transformers computed directly."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoModelForSequenceClassification,
    pipeline,
)

from tests.figures import figure_dict, heatmap_matrices
from tests.helpers import forward, load_direct, stacked

ATOL = 1e-5
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def playground_env(tiny_models: dict[str, Path], broken: Path) -> dict[str, str]:
    return {
        "PLAYGROUND_SENTIMENT_MODEL": str(tiny_models["sentiment"]),
        "PLAYGROUND_ZERO_SHOT_MODEL": str(tiny_models["zero_shot"]),
        "PLAYGROUND_GENERATION_MODEL": str(tiny_models["generation"]),
        "PLAYGROUND_ATTENTION_MODEL": str(tiny_models["attention"]),
        "PLAYGROUND_TRANSLATION_MODELS": json.dumps(
            {
                "French": str(tiny_models["translation_fr"]),
                "German": str(tiny_models["translation_de"]),
                "Broken": str(broken),
                "Spanish": str(broken.parent / "first_load"),
            }
        ),
    }


@pytest.fixture(scope="module")
def broken_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("broken")
    (folder / "config.json").write_text("{ this is not json")
    return folder


@pytest.fixture(scope="module")
def first_load_model(tiny_models, broken_model) -> Path:
    """A model no other test loads, so its first load can be watched."""
    return Path(shutil.copytree(tiny_models["translation_fr"], broken_model.parent / "first_load"))


@pytest.fixture(scope="module")
def client(tiny_models, broken_model, first_load_model):
    saved = dict(os.environ)
    os.environ.update(playground_env(tiny_models, broken_model))
    import app

    demo = app.build_demo()
    try:
        demo.launch(prevent_thread_lock=True, server_port=free_port(), quiet=True)
        yield Client(demo.local_url, verbose=False)
    finally:
        demo.close()
        os.environ.clear()
        os.environ.update(saved)


def test_the_api_names_and_parameters_are_the_contract(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    params = {name: [p["parameter_name"] for p in spec["parameters"]] for name, spec in endpoints.items()}
    assert params["/sentiment"] == ["text"]
    assert params["/zero_shot"][:4] == [
        "text",
        "labels",
        "multi_label",
        "hypothesis_template",
    ]
    assert params["/generate"][:7] == [
        "prompt",
        "max_new_tokens",
        "do_sample",
        "temperature",
        "top_p",
        "top_k",
        "seed",
    ]
    assert params["/translate"][:2] == ["text", "target_language"]
    assert params["/attention"][0] == "text"


def test_sentiment_endpoint(client, tiny_models):
    source = str(tiny_models["sentiment"])
    texts = ["I'm so hungry man.", "I love food so much."]
    note, table, bars, raw, _, _, _, plot = client.predict(text="\n".join(texts), api_name="/sentiment")
    expected = pipeline("text-classification", model=source)(texts)
    assert [item["label"] for item in raw] == [item["label"] for item in expected]
    np.testing.assert_allclose([item["score"] for item in raw], [item["score"] for item in expected], atol=1e-6)
    assert [row[1] for row in table["data"]] == [item["label"] for item in raw]
    assert len(figure_dict(bars)["data"]) == 2  # both class probabilities
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    expected = stacked(forward(model, **tokenizer(texts[0], return_tensors="pt")).attentions)
    [z] = heatmap_matrices(plot)
    np.testing.assert_allclose(z, expected[-1].mean(axis=0), atol=ATOL)  # default: last layer, mean of heads
    # Another text, layer and head, from the same run, without running the model again.
    [z] = heatmap_matrices(client.predict(item=1, layer=1, head="2", api_name="/sentiment_attention"))
    expected = stacked(forward(model, **tokenizer(texts[1], return_tensors="pt")).attentions)
    np.testing.assert_allclose(z, expected[0, 1], atol=ATOL)
    assert note == ""


def test_zero_shot_endpoint(client, tiny_models):
    source = str(tiny_models["zero_shot"])
    text, labels = (
        "History isn't really a fun class",
        ["education", "politics", "business"],
    )
    _note, bars, raw, *_, plot = client.predict(
        text=text,
        labels=", ".join(labels),
        multi_label=True,
        hypothesis_template="This text is about {}.",
        api_name="/zero_shot",
    )
    expected = pipeline("zero-shot-classification", model=source)(
        text, labels, multi_label=True, hypothesis_template="This text is about {}."
    )
    assert raw["labels"] == expected["labels"] and raw["sequence"] == text
    np.testing.assert_allclose(raw["scores"], expected["scores"], atol=1e-6)
    assert [bar for bar in figure_dict(bars)["data"][0]["y"]] == expected["labels"]
    tokenizer, model = load_direct(AutoModelForSequenceClassification, source)
    pair = tokenizer(text, f"This text is about {expected['labels'][0]}.", return_tensors="pt")
    [z] = heatmap_matrices(plot)
    np.testing.assert_allclose(
        z,
        stacked(forward(model, **pair).encoder_attentions)[-1].mean(axis=0),
        atol=ATOL,
    )


def test_generate_endpoint_greedy_equals_the_pipeline(client, tiny_models):
    source = str(tiny_models["generation"])
    prompt = "So today, I just feel like"
    text, raw, *_, plot = client.predict(
        prompt=prompt,
        max_new_tokens=8,
        do_sample=False,
        temperature=1.0,
        top_p=1.0,
        top_k=50,
        seed=0,
        api_name="/generate",
    )
    expected = pipeline("text-generation", model=source)(prompt, max_new_tokens=8, do_sample=False)
    assert raw == expected and text == expected[0]["generated_text"]
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    ids = model.generate(**tokenizer(prompt, return_tensors="pt"), max_new_tokens=8, do_sample=False)
    [z] = heatmap_matrices(plot)
    np.testing.assert_allclose(z, stacked(forward(model, input_ids=ids).attentions)[-1].mean(axis=0), atol=ATOL)
    assert figure_dict(plot)["layout"]["meta"]["query_tokens"] == tokenizer.convert_ids_to_tokens(ids[0])


def test_generate_endpoint_streams(client):
    job = client.submit(prompt="I love food", max_new_tokens=12, api_name="/generate")
    final = job.result()
    streamed = [output[0] for output in job.outputs()]
    assert len(streamed) > 2 and streamed[-1] == final[0]


def test_translate_endpoint_and_its_cross_attention(client, tiny_models):
    source = tiny_models["translation_de"]
    text = "I am a student"
    _note, translated, raw, *rest = client.predict(text=text, target_language="German", api_name="/translate")
    cross_plot, encoder_plot = rest[3], rest[7]
    tokenizer, model = load_direct(AutoModelForSeq2SeqLM, source)
    inputs = tokenizer(text, return_tensors="pt")
    produced = model.generate(**inputs, max_new_tokens=256)[0]
    assert raw == [{"translation_text": tokenizer.decode(produced, skip_special_tokens=True)}]
    assert translated == raw[0]["translation_text"]
    out = forward(model, **inputs, decoder_input_ids=produced[None])
    [z] = heatmap_matrices(cross_plot)
    np.testing.assert_allclose(z, stacked(out.cross_attentions)[-1].mean(axis=0), atol=ATOL)
    assert z.shape == (
        len(produced),
        inputs["input_ids"].shape[-1],
    )  # target tokens x source tokens
    [z] = heatmap_matrices(encoder_plot)
    np.testing.assert_allclose(z, stacked(out.encoder_attentions)[-1].mean(axis=0), atol=ATOL)


def test_attention_endpoint_with_a_pair_layer_and_head(client, tiny_models):
    source = tiny_models["attention"]
    text, pair = (
        "She is eating a green apple",
        "She bought the apple from the local market.",
    )
    _note, raw, *_, plot, grid = client.predict(text=text, text_pair=pair, api_name="/attention")
    tokenizer, model = load_direct(AutoModel, source)
    inputs = tokenizer(text, pair, return_tensors="pt")
    expected = stacked(forward(model, **inputs).attentions)
    assert raw["tokens"] == tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    assert (raw["num_layers"], raw["num_heads"]) == expected.shape[:2]
    np.testing.assert_allclose(heatmap_matrices(plot)[0], expected[-1].mean(axis=0), atol=ATOL)
    np.testing.assert_allclose(np.stack(heatmap_matrices(grid)), expected[-1], atol=ATOL)
    plot, grid = client.predict(item=0, layer=1, head="3", api_name="/attention_view")
    np.testing.assert_allclose(heatmap_matrices(plot)[0], expected[0, 2], atol=ATOL)
    np.testing.assert_allclose(np.stack(heatmap_matrices(grid)), expected[0], atol=ATOL)


def test_attention_endpoint_offers_the_other_tabs_models(client, tiny_models):
    _note, raw, *_ = client.predict(text="I love food", model=str(tiny_models["generation"]), api_name="/attention")
    assert raw["model"] == str(tiny_models["generation"])
    with pytest.raises(Exception, match=r"not in the list of choices|not one of this app's models"):
        client.predict(text="I love food", model="some-user/any-model", api_name="/attention")


def test_a_first_load_shows_what_loads_and_how_big_it_is(client, monkeypatch):
    from services import models

    real_load = models.load_model

    def slow_load(kind, source):
        time.sleep(1.5)  # a tiny model loads too fast to watch; real ones take seconds to minutes
        return real_load(kind, source)

    monkeypatch.setattr(models, "load_model", slow_load)
    job = client.submit(text="I am a student", target_language="Spanish", api_name="/translate")
    descriptions = set()
    while not job.done():
        descriptions |= {unit.desc for unit in job.status().progress_data or [] if unit.desc}
        time.sleep(0.05)
    assert job.result()[1]
    assert any(re.fullmatch(r"Loading \S*first_load \(\d+(\.\d)? (KB|MB)\)…", d) for d in descriptions), descriptions


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "   ", "api_name": "/sentiment"}, "text is empty"),
        (
            {
                "text": "x",
                "labels": " , ",
                "multi_label": False,
                "hypothesis_template": "This example is {}.",
                "api_name": "/zero_shot",
            },
            "at least one candidate label",
        ),
        (
            {
                "text": "x",
                "labels": "a, b",
                "multi_label": False,
                "hypothesis_template": "About it.",
                "api_name": "/zero_shot",
            },
            "no '{}'",
        ),
        (
            {"text": "hi", "target_language": "Klingon", "api_name": "/translate"},
            "Klingon",
        ),
        ({"text": "", "api_name": "/attention"}, "text is empty"),
    ],
)
def test_bad_input_gets_a_clear_message(client, kwargs, message):
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs)


def test_long_text_is_truncated_with_a_visible_note(client):
    note, *_ = client.predict(text="I love food so much. " * 200, api_name="/sentiment")
    assert "truncated" in note


def test_a_model_that_cannot_load_says_so_and_the_other_tabs_keep_working(client, tiny_models, broken_model):
    with pytest.raises(
        Exception,
        match=f"Could not load the model '{broken_model}'.*missing or corrupt",
    ):
        client.predict(text="I am a student", target_language="Broken", api_name="/translate")
    _, translated, *_ = client.predict(text="I am a student", target_language="French", api_name="/translate")
    assert translated
    assert client.predict(text="I love food", api_name="/sentiment")[3][0]["label"] in {
        "POSITIVE",
        "NEGATIVE",
    }
    # Mend the folder: the next request retries the load and succeeds.
    shutil.rmtree(broken_model)
    shutil.copytree(tiny_models["translation_fr"], broken_model)
    _, repaired, *_ = client.predict(text="I am a student", target_language="Broken", api_name="/translate")
    assert repaired == translated


def test_python_app_py_serves_on_gradios_port(tiny_models, broken_model):
    """`python app.py`, pointed at local models by the environment, serves the tabs."""
    port = free_port()
    env = {
        **os.environ,
        **playground_env(tiny_models, broken_model),
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "HF_HUB_OFFLINE": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(1)
        # All five tabs answer, each with its raw output and an attention heatmap.
        calls = {
            "/sentiment": {"text": "I love food so much."},
            "/zero_shot": {"text": "I love food", "labels": "food, sports"},
            "/generate": {"prompt": "So today, I just feel like", "max_new_tokens": 4},
            "/translate": {"text": "I am a student", "target_language": "French"},
            "/attention": {"text": "I am a student"},
        }
        for api_name, kwargs in calls.items():
            outputs = client.predict(**kwargs, api_name=api_name)
            plots = [out for out in outputs if isinstance(out, dict) and out.get("type") == "plotly"]
            assert heatmap_matrices(plots[-1]), api_name
    finally:
        server.terminate()
        server.wait(timeout=30)
