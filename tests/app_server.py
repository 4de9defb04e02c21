"""Configuring the app as a deployment does: through PLAYGROUND_* variables and a free port."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

# The tiny random Marian never writes </s>, so each translation runs to its limit: tests cap it here
# (the app's own limit, 256, would make each tiny translation take seconds).
TINY_TRANSLATION_TOKENS = 24


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
        "PLAYGROUND_FILL_MASK_MODEL": str(tiny_models["fill_mask"]),
        "PLAYGROUND_TRANSLATION_MODELS": json.dumps(
            {
                "French": str(tiny_models["translation_fr"]),
                "German": str(tiny_models["translation_de"]),
                "Broken": str(broken),
                "Spanish": str(broken.parent / "first_load"),
            }
        ),
    }


@contextlib.contextmanager
def serving(env: Mapping[str, str], limits=None) -> Iterator:
    """The app, configured by `env` as a deployment would be (and with other `limits`, which live in
    code; translations capped at TINY_TRANSLATION_TOKENS unless they say otherwise; no shared results
    unless `env` turns them on), launched on a free loopback port; a client."""
    from gradio_client import Client

    saved = dict(os.environ)
    # Results are not shared between requests unless a test asks (PLAYGROUND_SHARED_RESULTS=1): most tests
    # hold, slow or break the model and send the same input again, and must see it run each time.
    os.environ.update({"PLAYGROUND_SHARED_RESULTS": "0"} | dict(env))
    import app
    from components.limits import launch_options
    from services.config import Limits, Settings

    limits = limits or Limits(max_translation_tokens=TINY_TRANSLATION_TOKENS)
    settings = dataclasses.replace(Settings.from_env(), limits=limits)
    demo = app.build_demo(settings)
    try:
        options = launch_options(settings)
        demo.launch(**app.LAUNCH_OPTIONS, prevent_thread_lock=True, server_port=free_port(), quiet=True, **options)
        client = Client(demo.local_url, verbose=False)
        client.demo = demo  # for tests that look at what the server keeps (sessions, queue)
        yield client
    finally:
        demo.close()
        os.environ.clear()
        os.environ.update(saved)
