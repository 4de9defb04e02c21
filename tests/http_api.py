"""Gradio's HTTP API as a plain client uses it: JSON that gradio_client will not send (NaN, Infinity,
lone surrogates), and waiting on the server's queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx


def raw_call(client, api_name: str, session: str | None = None, **kwargs) -> tuple[str, object]:
    """Call `api_name` with `kwargs` (the rest at their defaults), in `session` if given; returns the
    final event ("complete" or "error") and its data, or its message."""
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]["parameters"]
    data = [kwargs.get(p["parameter_name"], p.get("parameter_default")) for p in parameters]
    url = f"{client.src.rstrip('/')}/gradio_api/call{api_name}"
    body = {"data": data} | ({"session_hash": session} if session else {})
    content = json.dumps(body)  # NaN and Infinity as such, lone surrogates as \ud800 escapes
    event_id = httpx.post(url, content=content, headers={"content-type": "application/json"}).json()["event_id"]
    lines = httpx.get(f"{url}/{event_id}", timeout=120).text.strip().splitlines()
    event = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")][-1]
    payload = json.loads([line.removeprefix("data: ") for line in lines if line.startswith("data: ")][-1])
    return event, payload["error"] if event == "error" else payload


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)
