"""Helpers for the hostile-visitor tests: slowed layers, raw calls in a session of one's own, RSS."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator

import httpx


@contextlib.contextmanager
def slow_layers(kind: str, source: str, seconds: float) -> Iterator[list[float]]:
    """Every layer of a loaded model sleeps `seconds` (inside its turn on the CPU, where a real model
    spends its time); yields the times the layers began, for as long as the block lasts."""
    import torch

    from services.models import MODELS

    model = MODELS.get(kind, source).model
    calls: list[float] = []

    def slow(module, args):
        calls.append(time.monotonic())
        time.sleep(seconds)

    stacks = [module for module in model.modules() if isinstance(module, torch.nn.ModuleList)]
    handles = [layer.register_forward_pre_hook(slow) for stack in stacks for layer in stack]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def post(client, api_name: str, session: str | None = None, **kwargs) -> httpx.Response:
    """POST /gradio_api/call/<api_name> as a plain HTTP client would, in `session`; the event is not read."""
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]["parameters"]
    data = [kwargs.get(p["parameter_name"], p.get("parameter_default")) for p in parameters]
    body = {"data": data} | ({"session_hash": session} if session else {})
    url = f"{client.src.rstrip('/')}/gradio_api/call{api_name}"
    return httpx.post(url, content=json.dumps(body), headers={"content-type": "application/json"}, timeout=60)


def rss_mb() -> float:
    """This process's resident memory (the app under test runs in it)."""
    with open(f"/proc/{os.getpid()}/statm") as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def in_background(fn, *args, **kwargs) -> tuple[threading.Thread, dict]:
    """Run `fn` in a thread; the dict gets its "result" or "error" and "seconds"."""
    out: dict = {}

    def run():
        started = time.monotonic()
        try:
            out["result"] = fn(*args, **kwargs)
        except Exception as error:
            out["error"] = error
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out
