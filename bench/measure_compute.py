"""How close the forward passes come to this CPU's matrix-multiply speed.

Roofline: GFLOP/s of the DistilBERT and BART forward passes (the app's path: eager, with
attentions; FLOPs from `torch.utils.flop_counter.FlopCounterMode`) / the GFLOP/s of a plain
fp32 `torch.mm`, timed alternately in the same run.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.context import Context
from bench.corpus import count_tokens, text_of_tokens
from bench.endpoints import forward
from bench.result import RATIO, Measurement, Target
from bench.timing import calls_per_sample, paired, sample, summarize

GEMM_SIZE = 1024
ROOFLINE_TOKENS = 128


def count_flops(model: Any, inputs: dict[str, torch.Tensor]) -> int:
    """FLOPs of one forward pass with attentions (matrix products; the elementwise rest is left out)."""
    with FlopCounterMode(display=False) as counter:
        forward(model, inputs, attentions=True)
    return int(counter.get_total_flops())


def gemm(m: int, k: int, n: int) -> tuple[Any, int]:
    """A fp32 [m, k] @ [k, n] product to time, and its FLOPs."""
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(m, k, generator=generator)
    right = torch.randn(k, n, generator=generator)
    return (lambda: torch.mm(left, right)), 2 * m * k * n


def gflops(call: Any, flops: int, min_seconds: float) -> float:
    """GFLOP/s of `call`, its best of three samples (for the details, not a ratio)."""
    call()  # warm-up
    calls = calls_per_sample(sample(call, 1), min_seconds)
    return flops / min(sample(call, calls) for _ in range(3)) / 1e9


def roofline(ctx: Context) -> list[Measurement]:
    square, square_flops = gemm(GEMM_SIZE, GEMM_SIZE, GEMM_SIZE)
    rows = []
    for key, label in (("distilbert", "DistilBERT"), ("bart", "BART-large")):
        loaded = ctx.store.get(key)
        text = text_of_tokens(loaded.tokenizer, ROOFLINE_TOKENS)
        inputs = dict(loaded.tokenizer(text, return_tensors="pt"))
        flops = count_flops(loaded.model, inputs)
        timed = paired(
            lambda model=loaded.model, inputs=inputs: forward(model, inputs, attentions=True),
            square,
            repeats=ctx.repeats,
            min_seconds=ctx.min_seconds,
        )
        ratios = tuple((flops / a) / (square_flops / b) for a, b in zip(timed.a, timed.b, strict=True))
        hidden = loaded.model.config.hidden_size
        shaped, shaped_flops = gemm(ROOFLINE_TOKENS, hidden, 4 * hidden)
        rows.append(
            Measurement(
                f"roofline: {label} forward GFLOP/s / fp32 GEMM GFLOP/s, {count_tokens(loaded.tokenizer, text)} tokens",
                RATIO,
                ratios,
                Target(">=", 0.5),
                details={
                    "forward_gflop": round(flops / 1e9, 2),
                    "forward_gflops": round(flops / summarize(timed.a).median / 1e9, 1),
                    "gemm_1024_gflops": round(square_flops / summarize(timed.b).median / 1e9, 1),
                    f"gemm_{ROOFLINE_TOKENS}x{hidden}x{4 * hidden}_gflops": round(
                        gflops(shaped, shaped_flops, ctx.min_seconds), 1
                    ),
                },
            )
        )
    return rows
