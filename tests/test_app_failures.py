"""Failures through gradio_client: bad input, a model that cannot load, and the first load of a
model, each answered with a clear message while the app keeps serving; and `python app.py` itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gradio_client import Client

from services.config import short_name
from tests.app_server import free_port, playground_env
from tests.figures import heatmap_matrices

ROOT = Path(__file__).resolve().parent.parent


def test_a_first_load_shows_what_loads_and_how_big_it_is(client, monkeypatch):
    from services import models

    real_load = models.load_model

    def slow_load(kind, source, **options):
        time.sleep(1.5)  # a tiny model loads too fast to watch; real ones take seconds to minutes
        return real_load(kind, source, **options)

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
            "needs one '{}'",
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
        match=f"Could not load the model '{short_name(str(broken_model))}'.*missing or corrupt",
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


@pytest.mark.slow  # a server in a subprocess
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
            assert any(heatmap_matrices(plot) for plot in plots), api_name
    finally:
        server.terminate()
        server.wait(timeout=30)
