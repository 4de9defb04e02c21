"""Each app endpoint the bench calls: its inputs at a length, the raw model call it wraps, its service call.

The raw call is what plain transformers would do for the same answer on the same model object;
the service call is the app's services/ function the endpoint's tab calls, without the tab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from transformers import pipeline

from bench.corpus import LABELS, SHORT_TEXT, text_of_tokens
from bench.measure_overhead import PROMPT, forward
from bench.measure_tasks import TRANSLATION_TOKENS
from bench.models import ModelStore
from services import attention, generation, sentiment, translation, zero_shot
from services.inputs import DEFAULT_TEMPLATE

GENERATION_TOKENS = 16


@dataclass(frozen=True)
class Case:
    """One call of an endpoint, the raw model call it wraps, and the service call between the two."""

    api_name: str
    kwargs: dict[str, Any]
    raw: Callable[[], Any]
    service: Callable[[], Any]


def _text(tokenizer: Any, tokens: int | None) -> str:
    return SHORT_TEXT if tokens is None else text_of_tokens(tokenizer, tokens)


def _generate(loaded: Any, text: str, tokens: int) -> Callable[[], Any]:
    batch = dict(loaded.tokenizer(text, return_tensors="pt"))
    pad = loaded.tokenizer.pad_token_id

    def call() -> Any:
        with torch.inference_mode():
            return loaded.model.generate(**batch, max_new_tokens=tokens, num_beams=1, do_sample=False, pad_token_id=pad)

    return call


def sentiment_case(store: ModelStore, tokens: int | None = None) -> Case:
    """Raw: the text-classification pipeline on the same model object."""
    loaded = store.get("distilbert")
    text = _text(loaded.tokenizer, tokens)
    classifier = pipeline("text-classification", model=loaded.model, tokenizer=loaded.tokenizer)
    return Case(
        "/sentiment",
        {"text": text},
        lambda: classifier(text),
        lambda: sentiment.classify([text], model=loaded.source),
    )


def attention_case(store: ModelStore, tokens: int | None = None) -> Case:
    """Raw: one BERT forward pass without attentions."""
    loaded = store.get("bert")
    text = _text(loaded.tokenizer, tokens)
    batch = dict(loaded.tokenizer(text, return_tensors="pt"))
    return Case(
        "/attention",
        {"text": text},
        lambda: forward(loaded.model, batch, attentions=False),
        lambda: attention.attend(text, model=loaded.source, kind=loaded.kind),
    )


def zero_shot_case(store: ModelStore, tokens: int | None = None) -> Case:
    """Raw: one batched forward of the three NLI pairs (the pipeline would run them one by one)."""
    loaded = store.get("bart")
    text = _text(loaded.tokenizer, tokens)
    hypotheses = [DEFAULT_TEMPLATE.format(label) for label in LABELS]
    batch = dict(loaded.tokenizer([text] * len(LABELS), hypotheses, padding=True, return_tensors="pt"))
    kwargs = {"text": text, "labels": ", ".join(LABELS), "hypothesis_template": DEFAULT_TEMPLATE}
    return Case(
        "/zero_shot",
        kwargs,
        lambda: forward(loaded.model, batch, attentions=False),
        lambda: zero_shot.classify(text, list(LABELS), model=loaded.source),
    )


def translate_case(store: ModelStore, tokens: int | None = None) -> Case:
    """Raw: greedy `generate` to the server's token limit (the random decoder never stops earlier)."""
    loaded = store.get("marian")
    text = _text(loaded.tokenizer, tokens)
    limit = TRANSLATION_TOKENS if tokens is None else tokens
    models = {"French": loaded.source}
    return Case(
        "/translate",
        {"text": text, "target_language": "French"},
        _generate(loaded, text, limit),
        lambda: translation.translate(text, "French", models=models, max_new_tokens=limit),
    )


def generate_case(store: ModelStore, tokens: int | None = None) -> Case:
    """Raw: greedy `generate`; at a length of n tokens, a prompt of n/2 and n/2 new tokens."""
    loaded = store.get("smollm2")
    prompt = PROMPT if tokens is None else text_of_tokens(loaded.tokenizer, tokens // 2)
    new = GENERATION_TOKENS if tokens is None else tokens // 2
    options = generation.GenerationOptions(max_new_tokens=new)
    return Case(
        "/generate",
        {"prompt": prompt, "max_new_tokens": new},
        _generate(loaded, prompt, new),
        lambda: generation.generate(prompt, options, model=loaded.source),
    )


CASES = {
    "/sentiment": sentiment_case,
    "/attention": attention_case,
    "/zero_shot": zero_shot_case,
    "/translate": translate_case,
    "/generate": generate_case,
}
