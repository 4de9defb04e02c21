"""The forward pass's costs: against this CPU's matrix-multiply speed, for attention, under the services.

Roofline: GFLOP/s of the DistilBERT and BART forward passes (the app's path: eager, with attentions;
FLOPs from `FlopCounterMode`) / the GFLOP/s of a plain fp32 `torch.mm`, timed alternately.
Attention cost: eager with `output_attentions=True` / sdpa without, same weights.
Handler overhead: a service call / the raw `pipeline()` (or `generate`) on the same model and input;
the service also returns every attention matrix, so each row says what asking for them alone costs.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import pipeline

from bench.context import Context
from bench.endpoints import (
    LABELS,
    SHORT_TEXT,
    count_tokens,
    encoded,
    forward,
    generate_case,
    nli_pairs,
    sentiment_case,
    text_of_tokens,
)
from bench.result import RATIO, Measurement, Target, ratio_row
from bench.timing import Call, Paired, interleaved, median_ms, summarize
from services import zero_shot

OVERHEAD_TARGET = Target("<=", 1.05)
ROOFLINE_TOKENS = 128


def gemm(m: int, k: int, n: int) -> tuple[Call, int]:
    """A fp32 [m, k] @ [k, n] product to time, and its FLOPs."""
    generator = torch.Generator().manual_seed(0)
    left, right = torch.randn(m, k, generator=generator), torch.randn(k, n, generator=generator)
    return (lambda: torch.mm(left, right)), 2 * m * k * n


def roofline(ctx: Context) -> list[Measurement]:
    square, square_flops = gemm(1024, 1024, 1024)
    rows = []
    for key, label in (("distilbert", "DistilBERT"), ("bart", "BART-large")):
        loaded = ctx.store.get(key)
        text = text_of_tokens(loaded.tokenizer, ROOFLINE_TOKENS)
        inputs = encoded(loaded.tokenizer, text)
        with FlopCounterMode(display=False) as counter:  # matrix products; the elementwise rest is left out
            forward(loaded.model, inputs, attentions=True)
        flops = counter.get_total_flops()
        timed = ctx.paired(lambda model=loaded.model, inputs=inputs: forward(model, inputs, attentions=True), square)
        # For the details: the best of three samples of a GEMM shaped like the forward's feed-forward layer.
        hidden = loaded.model.config.hidden_size
        shaped, shaped_flops = gemm(ROOFLINE_TOKENS, hidden, 4 * hidden)
        shaped_gflops = shaped_flops / min(interleaved([shaped], repeats=3, min_seconds=ctx.min_seconds)[0]) / 1e9
        rows.append(
            Measurement(
                f"roofline: {label} forward GFLOP/s / fp32 GEMM GFLOP/s, {count_tokens(loaded.tokenizer, text)} tokens",
                RATIO,
                tuple((flops / a) / (square_flops / b) for a, b in zip(timed.a, timed.b, strict=True)),
                Target(">=", 0.5),
                details={
                    "forward_gflop": round(flops / 1e9, 2),
                    "forward_gflops": round(flops / summarize(timed.a).median / 1e9, 1),
                    "gemm_1024_gflops": round(square_flops / summarize(timed.b).median / 1e9, 1),
                    f"gemm_{ROOFLINE_TOKENS}x{hidden}x{4 * hidden}_gflops": round(shaped_gflops, 1),
                },
            )
        )
    return rows


def attention_cost(ctx: Context) -> list[Measurement]:
    """Eager + output_attentions / sdpa without, for DistilBERT and BERT at 128 (and in full, 32) tokens."""
    rows = []
    for key, label in (("distilbert", "DistilBERT"), ("bert", "BERT-base")):
        loaded = ctx.store.get(key)
        sdpa = copy.deepcopy(loaded.model)  # the same weights, the other attention kernel
        sdpa.set_attn_implementation("sdpa")
        for tokens in ctx.pick((128,), (32, 128)):
            text = text_of_tokens(loaded.tokenizer, tokens)
            inputs = encoded(loaded.tokenizer, text)
            timed = ctx.paired(
                lambda model=loaded.model, inputs=inputs: forward(model, inputs, attentions=True),
                lambda sdpa=sdpa, inputs=inputs: forward(sdpa, inputs, attentions=False),
            )
            name = f"attention cost: {label} eager+attentions / sdpa, {count_tokens(loaded.tokenizer, text)} tokens"
            rows.append(ratio_row(name, timed, Target("<=", 1.15), ("eager", "sdpa")))
    return rows


def overhead_row(name: str, timed: Paired, ctx: Context, *, loaded: Any, inputs: dict, extra: str = "") -> Measurement:
    """Service / raw, with what asking the forward pass of `inputs` for attentions alone costs."""
    attention = ctx.paired(
        lambda: forward(loaded.model, inputs, attentions=True), lambda: forward(loaded.model, inputs, attentions=False)
    )
    share = summarize(attention.ratios()).median
    note = f"Asking the forward pass for attentions alone costs {share:.2f}×. {extra}".strip()
    details = {"forward_with_attentions_over_without": round(share, 3)}
    return ratio_row(name, timed, OVERHEAD_TARGET, ("service", "raw"), note=note, **details)


def sentiment_overhead(ctx: Context) -> Measurement:
    case, loaded = sentiment_case(ctx.store), ctx.store.get("distilbert")
    timed = ctx.paired(case.service, case.raw)
    inputs = encoded(loaded.tokenizer, SHORT_TEXT)
    return overhead_row("handler overhead: sentiment (DistilBERT) / pipeline", timed, ctx, loaded=loaded, inputs=inputs)


def zero_shot_overhead(ctx: Context) -> Measurement:
    loaded = ctx.store.get("bart")
    raw = pipeline("zero-shot-classification", model=loaded.model, tokenizer=loaded.tokenizer)
    labels = list(LABELS)
    timed = ctx.paired(
        lambda: zero_shot.classify(SHORT_TEXT, labels, model=loaded.source),
        lambda: raw(SHORT_TEXT, candidate_labels=labels),
    )
    return overhead_row(
        "handler overhead: zero-shot (BART-large, 3 labels) / pipeline",
        timed,
        ctx,
        loaded=loaded,
        inputs=nli_pairs(loaded.tokenizer, SHORT_TEXT),
        extra="The pipeline runs one forward per label (batch_size=1); the service batches the labels.",
    )


def generation_overhead(ctx: Context) -> Measurement:
    tokens = ctx.pick(16, 64)
    case = generate_case(ctx.store, new_tokens=tokens)
    timed = ctx.paired(case.service, case.raw, min_seconds=0)
    return ratio_row(
        f"handler overhead: generation (SmolLM2-360M, {tokens} tokens) / generate",
        timed,
        OVERHEAD_TARGET,
        ("service", "raw"),
        note="The service streams from a worker thread and asks generate for each step's logits, scores and "
        "attentions, then runs one cached step for the last token's attention row "
        f"({median_ms(timed.a) - median_ms(timed.b):.0f} ms in all).",
    )


def handler_overhead(ctx: Context) -> list[Measurement]:
    return [sentiment_overhead(ctx), zero_shot_overhead(ctx), generation_overhead(ctx)]
