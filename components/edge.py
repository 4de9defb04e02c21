"""The app's edge: what one request may carry, and how much of the queue one session may hold.

An ASGI middleware in front of Gradio's routes. Gradio keeps every input value of an event in the
session (for its deep links) before the handler can refuse it, and holds a request's body in memory
while it reads it; so a value larger than any control accepts is refused here, before Gradio reads
it. A session may hold only a few places in the queue for model runs, a full queue answers in the
app's own words, uploads (which this app never needs) are closed, and deep links are bounded
(components.deep_links).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio

from components.deep_links import DEEP_LINKS
from services.config import Settings

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

API = "/gradio_api"
MODEL_EVENTS = "models"  # the concurrency id of every model event (components.page)

TOO_LARGE = "The request is larger than the {limit:,} bytes this app accepts in one request."
VALUE_TOO_LARGE = "The value of {what} is {size:,} characters long; no control of this app accepts more than {limit:,}."
BUSY = "The Space is busy: every place in its queue is taken. Please try again in a minute."
SESSION_BUSY = (
    "You already have {held} requests waiting or running; each visitor may have at most {limit} at a time. "
    "Wait for one to finish, or press Stop, then try again."
)
NO_UPLOADS = "This app takes no file uploads."


class Edge:
    """ASGI middleware: body and value sizes, the session's places in the queue, closed routes."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        limits = settings.limits
        self.max_value_chars = limits.max_input_chars
        self.max_body_bytes = limits.max_request_bytes
        self.session_places = limits.max_session_places
        self.session_events = limits.max_session_events

    async def __call__(self, scope: Scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        route = path[len(API) :].rstrip("/") if path.startswith(API) else None
        if route == "/deep_link" and scope.get("method") == "GET":
            await self._deep_link(scope, receive, send)
            return
        if route is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        if route == "/upload" or route.startswith("/upload/"):
            await _refuse(send, 403, NO_UPLOADS)
            return
        if route != "/queue/join" and not route.startswith("/call/"):
            await self.app(scope, receive, send)
            return
        body = await _read(receive, self.max_body_bytes)
        if body is None:
            await _refuse(send, 413, TOO_LARGE.format(limit=self.max_body_bytes))
            return
        problem = self._problem(scope, route, body)
        if problem is not None:
            await _refuse(send, *problem)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _deep_link(self, scope: Scope, receive, send) -> None:
        """Gradio's deep link writes the session's page state to disk: within bounds, and old ones go."""
        app = scope["app"]
        session = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [None])[0]
        refusal = DEEP_LINKS.refusal(app.state_holder, session)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        await anyio.to_thread.run_sync(DEEP_LINKS.prune, Path(app.uploaded_file_dir) / "deep_links")
        await self.app(scope, receive, send)

    def _problem(self, scope: Scope, route: str, body: bytes) -> tuple[int, Any] | None:
        """Why this request is refused (status, detail), or None."""
        try:
            request = json.loads(body)
        except ValueError:
            return None  # Gradio answers a malformed body itself
        if not isinstance(request, dict):
            return None
        blocks = scope["app"].get_blocks()
        fn = _event_fn(blocks, route, request)
        if (oversized := self._oversized(request.get("data"), fn)) is not None:
            return oversized
        queue = blocks._queue
        if queue.max_size is not None and len(queue) >= queue.max_size:
            return 503, BUSY
        session = request.get("session_hash")
        if not isinstance(session, str) or fn is None:
            return None
        held = [event for event in list(queue.event_ids_to_events.values()) if event.session_hash == session]
        models = [event for event in held if event.concurrency_id == MODEL_EVENTS]
        if fn.concurrency_id == MODEL_EVENTS and len(models) >= self.session_places:
            return 429, SESSION_BUSY.format(held=len(models), limit=self.session_places)
        if len(held) >= self.session_events:
            return 429, SESSION_BUSY.format(held=len(held), limit=self.session_events)
        return None

    def _oversized(self, data: Any, fn: Any) -> tuple[int, str] | None:
        """A value larger than any control accepts, as Gradio's own input validation answers it: 422,
        with a message per input (the page shows it at its control, gradio_client names the parameter)."""
        if isinstance(data, dict):
            items = list(data.items())
        elif isinstance(data, list):
            names = list(getattr(fn, "input_parameter_names", None) or [])
            inputs = list(getattr(fn, "inputs", []))
            if len(data) != len(inputs) and len(names) == len(inputs):  # /call/…: the API leaves out gr.State
                names = [name for name, block in zip(names, inputs, strict=True) if not block.skip_api]
            items = [(names[i] if i < len(names) else f"parameter_{i}", value) for i, value in enumerate(data)]
        else:
            return None
        verdicts, refused = [], False
        for name, value in items:
            size = len(value) if isinstance(value, str) else len(json.dumps(value, separators=(",", ":")))
            if size > self.max_value_chars:
                refused = True
                message = VALUE_TOO_LARGE.format(what=name, size=size, limit=self.max_value_chars)
                verdicts.append({"__type__": "validate", "is_valid": False, "message": message, "parameter_name": name})
            else:
                verdicts.append({"is_valid": True, "message": ""})
        return (422, verdicts) if refused else None


def _event_fn(blocks: Any, route: str, request: dict[str, Any]) -> Any:
    """The event a request asks for: by fn_index (the page) or by API name (/call/<name>)."""
    if route == "/queue/join":
        index = request.get("fn_index")
        return blocks.fns.get(index) if isinstance(index, int) else None
    name = route.removeprefix("/call/").removeprefix("v2/")
    return next((fn for fn in blocks.fns.values() if fn.api_name == name), None)


async def _read(receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes (the rest is never held)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive):
    """A `receive` that gives the body read already, then waits on the client as the original does."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(send, status: int, detail: Any) -> None:
    """Answer as Gradio answers a refused request: {"detail": …}."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
