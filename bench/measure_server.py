"""Through the running server, with gradio_client, as a visitor's browser or a script would call it.

2. End to end: an endpoint's round trip minus the raw model call, minus an echo endpoint's round
   trip, all timed in the same run: what the app's own code (explorer, plots, JSON) adds.
5. Sentiment throughput at 8 concurrent clients: with Gradio batching / without (two servers of the
   app, `Settings.sentiment_batch` 8 and the app as it is, both serving /sentiment). The app dropped
   batching (it wrote every visitor's gr.State into one session), so this row reads "not available".
12. Plot payload: the bytes of each endpoint's outputs (json.dumps of what gradio_client returns).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from gradio_client import Client

from bench.context import Context, repeats
from bench.corpus import SHORT_TEXT
from bench.endpoints import CASES
from bench.measure_tasks import TRANSLATION_TOKENS
from bench.result import RATIO, Measurement, Target
from bench.timing import DEADLINE, GATE, calls_per_sample, clock, median_ms, sample, summarize

PAYLOAD_TOKENS = (32, 128)
E2E_SAMPLE_S = 0.6
PAYLOAD_NOTES = {
    "/zero_shot": "Premise of n tokens, 3 labels.",
    "/translate": "Source of n tokens; the random decoder writes n target tokens (the server's limit).",
    "/generate": "Prompt of n/2 tokens and n/2 new tokens.",
}


def end_to_end(ctx: Context) -> list[Measurement]:
    """Round trip − raw call − echo round trip, per endpoint, in ms; plus the echo round trip itself."""
    server = ctx.server(translation_tokens=TRANSLATION_TOKENS)
    names = ctx.pick(("/sentiment", "/attention", "/zero_shot"), tuple(CASES))
    echo_ms: list[float] = []
    rows = []
    for name in names:
        case = CASES[name](ctx.store)
        round_trip = partial(server.client.predict, **case.kwargs, api_name=case.api_name)
        # Round trips vary by tens of ms: longer samples than elsewhere, to see a 10 ms target at all.
        calls = [round_trip, case.raw, server.call_echo, case.service]
        times = _rotated(calls, ctx.repeats, max(ctx.min_seconds, E2E_SAMPLE_S))
        echo_ms += [t * 1000 for t in times[2]]
        overhead = tuple((e - r - o) * 1000 for e, r, o in zip(*times[:3], strict=True))
        trip, raw, echo, service = (median_ms(t) for t in times)
        rows.append(
            Measurement(
                f"end to end: {name} round trip − raw call − echo",
                "ms",
                overhead,
                Target("<=", 10.0),
                note=f"Medians: round trip {trip:.0f} ms, echo {echo:.0f} ms, raw call {raw:.0f} ms, service call "
                f"{service:.0f} ms (round trip − service − echo is the tab's code: explorer, plots, JSON).",
                details={"round_trip_ms": trip, "raw_ms": raw, "service_ms": service, "echo_ms": echo},
            )
        )
    rows.append(
        Measurement(
            "end to end: Gradio echo round trip",
            "ms",
            tuple(echo_ms),
            note="Informational: gradio_client's own round trip; its spread bounds how finely the rows above "
            "can resolve a few ms.",
        )
    )
    return rows


def _rotated(calls: list[Callable[[], Any]], repeats: int, min_seconds: float) -> list[list[float]]:
    """Seconds per call of each call, repeat by repeat, starting each repeat with the next one."""
    counts = [calls_per_sample(clock(call), min_seconds) for call in calls]  # warm-up, and sizing
    times: list[list[float]] = [[] for _ in calls]
    for index in range(repeats):
        if index and DEADLINE.passed():
            break
        order = [(index + offset) % len(calls) for offset in range(len(calls))]
        timed = GATE.run(lambda order=order: {i: sample(calls[i], counts[i]) for i in order})
        for which, seconds in timed.items():
            times[which].append(seconds)
    return times


@dataclass(frozen=True)
class Served:
    """An endpoint of the app served with some `Settings` fields set (e.g. batching off)."""

    label: str
    settings: dict[str, Any]
    api_name: str = "/sentiment"


PLAIN = Served("without batching", {})
BATCHED = Served("with Gradio batching (sentiment_batch=8)", {"sentiment_batch": 8})


def _server_for(ctx: Context, served: Served) -> Any | None:
    """The server for `served`, or None when this app's Settings lack its fields or its endpoint."""
    from bench.server import settings_fields

    if set(served.settings) - settings_fields():
        return None
    server = ctx.server(TRANSLATION_TOKENS, **served.settings)
    return server if served.api_name in server.endpoints() else None


def sentiment_throughput(
    ctx: Context, plain: Served = PLAIN, batched: Served = BATCHED, *, clients: int = 8
) -> Measurement:
    """Requests/s of `clients` concurrent clients: `batched` / `plain`, alternating, repeated.

    A "not available" row when the app cannot serve `batched`; it still reports the plain rate.
    """
    name = f"sentiment throughput, {clients} clients: batched / unbatched"
    each = ctx.pick(2, 4)
    plain_server = _server_for(ctx, plain) or ctx.server(TRANSLATION_TOKENS)
    batched_server = _server_for(ctx, batched)
    plain_pool = [Client(plain_server.url, verbose=False) for _ in range(clients)]
    if batched_server is None:
        plain_rps = [_requests_per_second(plain_pool, plain.api_name, each) for _ in repeats(ctx)]
        note = (
            f"not available: this app cannot serve {batched.api_name} {batched.label}; "
            f"without batching {summarize(plain_rps).median:.2f} requests/s."
        )
        return Measurement(name, RATIO, (), note=note, details={"plain_rps": plain_rps}, available=False)
    batched_pool = [Client(batched_server.url, verbose=False) for _ in range(clients)]
    plain_rps, batched_rps = [], []
    for _ in repeats(ctx):
        plain_rps.append(_requests_per_second(plain_pool, plain.api_name, each))
        batched_rps.append(_requests_per_second(batched_pool, batched.api_name, each))
    return Measurement(
        name,
        RATIO,
        tuple(b / p for b, p in zip(batched_rps, plain_rps, strict=True)),
        Target(">=", 1.8),
        note=f"Batched: {batched.label}; unbatched: {plain.label}; {each} requests per client. "
        "Batching merges only the forward passes (tens of ms for short texts); each request's Gradio round trip "
        "(about 100 ms, the echo row) is not shared, which bounds the gain.",
        details={"plain_rps": plain_rps, "batched_rps": batched_rps},
    )


def _requests_per_second(pool: list[Client], api_name: str, each: int) -> float:
    """Every client sends `each` requests one after another, all clients at once."""
    start_line = threading.Barrier(len(pool) + 1)
    errors: list[BaseException] = []

    def run(client: Client) -> None:
        start_line.wait()
        try:
            for _ in range(each):
                client.predict(text=SHORT_TEXT, api_name=api_name)
        except BaseException as error:  # re-raised below, in the bench's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(client,)) for client in pool]
    for thread in threads:
        thread.start()
    start_line.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return len(pool) * each / (time.perf_counter() - start)


def payload(ctx: Context) -> list[Measurement]:
    """Bytes of each endpoint's outputs at 32 and 128 input tokens (n=1: the size is deterministic)."""
    rows = []
    for tokens in PAYLOAD_TOKENS:
        server = ctx.server(translation_tokens=tokens)
        for name, build in CASES.items():
            case = build(ctx.store, tokens)
            outputs = server.client.predict(**case.kwargs, api_name=case.api_name)
            size = len(json.dumps(outputs, default=str).encode("utf-8")) / 1e6
            rows.append(
                Measurement(
                    f"payload: {name} at {tokens} tokens",
                    "MB",
                    (size,),
                    Target("<=", 1.0) if tokens == max(PAYLOAD_TOKENS) else None,
                    note=PAYLOAD_NOTES.get(name, ""),
                )
            )
    return rows
