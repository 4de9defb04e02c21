"""Task-level ratios: batching zero-shot labels, streaming generation, translation's attention pass.

Zero-shot with 10 labels: one batched call / ten one-label calls, and 10 labels / 1 label.
Generation: time to first streamed token / total for 64 tokens; streamed tokens/s / raw tokens/s.
Translation: the cross-attention pass / generation; the service / raw `generate`; greedy / 4 beams.
The random decoder never writes `</s>`: every translation runs to the limit, as long as a real one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from bench.context import Context
from bench.endpoints import (
    LABELS,
    PROMPT,
    SHORT_TEXT,
    TRANSLATION_TOKENS,
    count_tokens,
    encoded,
    raw_generate,
    translate_case,
)
from bench.result import RATIO, Measurement, Target, ratio_row
from bench.timing import median_ms, rotations
from services import generation, zero_shot
from services.attention_maps import stack_attentions

TEN_LABELS = (*LABELS, "sports", "food", "travel", "technology", "health", "music", "weather")


def zero_shot_labels(ctx: Context) -> list[Measurement]:
    classify = partial(zero_shot.classify, SHORT_TEXT, model=ctx.store.get("bart").source)
    labels = list(TEN_LABELS)
    speedup = ctx.paired(lambda: [classify([label]) for label in labels], lambda: classify(labels), min_seconds=0)
    scaling = ctx.paired(lambda: classify(labels), lambda: classify(labels[:1]))
    return [
        ratio_row(
            "zero-shot, 10 labels: 10 one-label calls / one batched call (speed-up)",
            speedup,
            Target(">=", 1.5),
            ("one_by_one", "batched"),
        ),
        ratio_row(
            "zero-shot: 10 labels / 1 label (time)",
            scaling,
            sides=("ten_labels", "one_label"),
            note="Informational: ten NLI pairs cost this many times one pair, batched.",
        ),
    ]


@dataclass(frozen=True)
class StreamTimes:
    first: float  # seconds to the first streamed update
    last_token: float  # seconds to the last token's update
    done: float  # seconds to the final update (after the attention pass)
    tokens: int


def time_stream(source: str, tokens: int) -> StreamTimes:
    start = time.perf_counter()
    first = last = 0.0
    final = None
    for update in generation.stream(PROMPT, generation.GenerationOptions(max_new_tokens=tokens), model=source):
        now = time.perf_counter() - start
        if update.done:
            final = update
            break
        first = first or now
        last = now
    done = time.perf_counter() - start
    new_tokens = final.sequences[0].new_tokens if final is not None else 0
    return StreamTimes(first=first, last_token=last, done=done, tokens=new_tokens)


def generation_streaming(ctx: Context) -> list[Measurement]:
    loaded = ctx.store.get("smollm2")
    tokens = 64
    inputs = encoded(loaded.tokenizer, PROMPT)

    def raw(count: int) -> tuple[float, int]:
        """Seconds and new tokens of one raw greedy `generate`."""
        start = time.perf_counter()
        ids = raw_generate(loaded, inputs, count)
        return time.perf_counter() - start, int(ids.shape[-1] - inputs["input_ids"].shape[-1])

    time_stream(loaded.source, 4)  # warm-up: the first generate pays for kernel selection
    raw(4)
    streams, raws = rotations([lambda: time_stream(loaded.source, tokens), lambda: raw(tokens)], ctx.repeats)
    details = {
        "first_token_ms": median_ms([s.first for s in streams]),
        "last_token_ms": median_ms([s.last_token for s in streams]),
        "total_ms": median_ms([s.done for s in streams]),
        "raw_generate_ms": median_ms([r for r, _ in raws]),
        "tokens": [s.tokens for s in streams],
        "raw_tokens": [n for _, n in raws],
    }
    return [
        Measurement(
            f"generation: time to first streamed token / total, {tokens} tokens",
            RATIO,
            tuple(s.first / s.done for s in streams),
            Target("<=", 0.15),
            note="Total includes assembling the attention from generate's steps after the last token.",
            details=details,
        ),
        Measurement(
            "generation: streamed tokens/s / raw generate tokens/s",
            RATIO,
            tuple((s.tokens / s.last_token) / (n / r) for s, (r, n) in zip(streams, raws, strict=True)),
            Target(">=", 0.95),
            note="Streamed rate counts up to the last token's update, before the attention pass.",
            details=details,
        ),
    ]


def translation_costs(ctx: Context) -> list[Measurement]:
    case, loaded = translate_case(ctx.store), ctx.store.get("marian")
    batch = encoded(loaded.tokenizer, SHORT_TEXT)
    produced = raw_generate(loaded, batch, TRANSLATION_TOKENS)  # starts with the decoder start token
    with torch.inference_mode():
        encoder_outputs = loaded.model.get_encoder()(**batch, output_attentions=True)

    def extract() -> Any:
        """The service's attention step alone: a decoder pass over the produced ids, reading the encoder
        output that generate also used (the service runs the encoder once), then the stacked arrays."""
        with torch.inference_mode():
            outputs = loaded.model(
                attention_mask=batch["attention_mask"],
                encoder_outputs=encoder_outputs,
                decoder_input_ids=produced,
                output_attentions=True,
            )
        return stack_attentions(outputs.cross_attentions), stack_attentions(encoder_outputs.attentions)

    shape = f"{count_tokens(loaded.tokenizer, SHORT_TEXT)} → {produced.shape[-1] - 1} tokens"
    return [
        ratio_row(
            f"translation: cross-attention pass / greedy generation (Marian, {shape})",
            ctx.paired(extract, case.raw),
            Target("<=", 0.15),
            ("extract", "generate"),
            note="One decoder pass over all target tokens at once, against greedy decoding's one step per token.",
        ),
        ratio_row(
            "translation: service / raw greedy generate",
            ctx.paired(case.service, case.raw),
            sides=("service", "generate"),
            note="Informational: generation plus the attention pass plus token handling.",
        ),
        ratio_row(
            "translation: greedy / 4 beams (raw generate)",
            ctx.paired(case.raw, lambda: raw_generate(loaded, batch, TRANSLATION_TOKENS, beams=4)),
            sides=("greedy", "beams4"),
            note="Informational: opus-mt's own config asks for 4 beams; the service now defaults to greedy.",
        ),
    ]
