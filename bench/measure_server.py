"""Through the running server, with gradio_client, as a visitor's browser or a script would call it.

End to end: an endpoint's round trip minus the raw model call, minus an echo endpoint's round trip,
all timed in the same run: what the app's own code (explorer, plots, JSON) adds. Payload: the bytes
of each endpoint's outputs (json.dumps of what gradio_client returns), which a visitor downloads.
"""

from __future__ import annotations

import json
from functools import partial

from bench.context import Context
from bench.endpoints import CASES, TRANSLATION_TOKENS
from bench.result import Measurement, Target
from bench.timing import interleaved, median_ms

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
        times = interleaved(calls, repeats=ctx.repeats, min_seconds=max(ctx.min_seconds, E2E_SAMPLE_S))
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
