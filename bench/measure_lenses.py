"""The lenses' cost, each as a ratio to the plain run it explains, on the full-size random-weight models.

Attribution for sentiment (Integrated Gradients, 32 steps, DistilBERT) / the plain sentiment request;
gradient × input for 32 written tokens / the plain generation of them (SmolLM2-360M); the logit lens
over those 32 steps / the same generation; head importance (every DistilBERT head alone) / one plain
forward pass per head. Each lens runs on the recipe its plain run left, as the explorer runs it.
"""

from __future__ import annotations

from typing import Any

import torch

from bench.context import Context
from bench.endpoints import PROMPT, SHORT_TEXT, encoded, forward
from bench.result import RATIO, Measurement, Target, ratio_row
from bench.timing import paired
from services import generation, sentiment
from services.config import Limits
from services.inputs import GenerationOptions
from services.lenses import attribution, importance, logit_lens
from services.lenses.knockout import attention_modules, heads_per_layer

WRITTEN = 32  # tokens the generation lenses explain
# No lens budget here: the bench measures what a lens costs, where the app would decline past a minute.
BUDGET = {"max_seconds": float("inf"), "max_bytes": Limits().max_attention_bytes}


def lenses(ctx: Context) -> list[Measurement]:
    return _classifier_lenses(ctx) + _generation_lenses(ctx)


def _classifier_lenses(ctx: Context) -> list[Measurement]:
    loaded = ctx.store.get("distilbert")

    def request() -> Any:
        return sentiment.classify([SHORT_TEXT], model=loaded.source)

    recipe = request()[0].attention.recipe
    timing = {"repeats": ctx.repeats, "min_seconds": ctx.min_seconds}
    inputs = encoded(loaded.tokenizer, SHORT_TEXT)
    heads = len(attention_modules(loaded.model, "attention")) * heads_per_layer(loaded.model, "attention")

    def one_pass() -> Any:
        with torch.inference_mode():
            return forward(loaded.model, inputs, attentions=False)

    every_head = paired(lambda: importance.head_importance(recipe, **BUDGET), one_pass, **timing)
    per_pass = tuple(ratio / heads for ratio in every_head.ratios())
    return [
        ratio_row(
            "lens: attribution (Integrated Gradients, 32 steps, DistilBERT) / the plain sentiment request",
            paired(lambda: attribution.attribute(recipe, **BUDGET), request, **timing),
            Target("<=", 25.0),
            ("attribution", "request"),
            note="32 interpolation steps, each a forward and a backward pass, in batches within 1 GB.",
        ),
        Measurement(
            f"lens: head importance (DistilBERT, {heads} heads) / {heads} plain forward passes",
            RATIO,
            per_pass,
            Target("<=", 1.2),
            note="Many heads' copies of the input share a batched pass, one head knocked out in each copy.",
            details={"heads": heads},
        ),
    ]


def _generation_lenses(ctx: Context) -> list[Measurement]:
    loaded = ctx.store.get("smollm2")
    options = GenerationOptions(max_new_tokens=WRITTEN)

    def plain() -> Any:
        return generation.generate(PROMPT, options, model=loaded.source)

    [sequence] = plain().sequences
    recipe = sequence.attention.recipe
    timing = {"repeats": ctx.repeats, "min_seconds": 0}
    written = sequence.new_tokens
    return [
        ratio_row(
            f"lens: gradient × input, {written} written tokens (SmolLM2-360M) / the plain generation",
            paired(lambda: attribution.attribute(recipe, **BUDGET), plain, **timing),
            Target("<=", 3.0),
            ("gradient_x_input", "generation"),
            note="A backward pass per written token over the whole text, batched; generation is one cached step each.",
        ),
        ratio_row(
            f"lens: logit lens, {written} steps (SmolLM2-360M) / the plain generation",
            paired(lambda: logit_lens.logit_lens(recipe), plain, **timing),
            Target("<=", 1.3),
            ("logit_lens", "generation"),
            note="One pass with every layer's hidden state, then the LM head once per layer over the written steps.",
        ),
    ]
