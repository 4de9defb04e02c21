"""The app served in this process on the bench's models, plus a trivial echo app for Gradio's own cost.

The app is `app.build_demo(settings)` with every model setting naming a bench model that is
already in the app's model cache, so the endpoints run the app's real code on full-size models.
The echo app has one queued event that returns its input: its round trip is what Gradio and
gradio_client cost on this machine before any app code runs.
"""

from __future__ import annotations

import socket
from typing import Any

import gradio as gr
from gradio_client import Client

from bench.configs import SPECS
from bench.models import ModelStore

ECHO = "/echo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_settings(translation_tokens: int) -> Any:
    """Settings that name the bench models (sources such as "random/bart-large-mnli")."""
    from services.config import Limits, Settings

    return Settings(
        sentiment_model=SPECS["distilbert"].source,
        zero_shot_model=SPECS["bart"].source,
        generation_model=SPECS["smollm2"].source,
        attention_model=SPECS["bert"].source,
        translation_models={"French": SPECS["marian"].source},
        limits=Limits(max_translation_tokens=translation_tokens),
    )


def echo_demo() -> gr.Blocks:
    """One queued text-in, text-out event, queued like the app's events."""
    with gr.Blocks() as demo:
        text = gr.Textbox()
        out = gr.Textbox()
        text.submit(lambda value: value, inputs=text, outputs=out, api_name=ECHO.lstrip("/"))
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo


def launch(demo: gr.Blocks) -> Client:
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    return Client(demo.local_url, verbose=False)


class BenchServer:
    """The app and the echo app, both listening on loopback ports of this process."""

    def __init__(self, store: ModelStore, *, translation_tokens: int) -> None:
        import app

        for key in SPECS:
            store.get(key)
        self.demo = app.build_demo(bench_settings(translation_tokens))
        self.echo = echo_demo()
        self.client = launch(self.demo)
        self.echo_client = launch(self.echo)

    def call_echo(self, text: str = "hello") -> Any:
        return self.echo_client.predict(text, api_name=ECHO)

    def close(self) -> None:
        for demo in (self.demo, self.echo):
            demo.close(verbose=False)
