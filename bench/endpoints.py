"""The calls the bench times: each app endpoint's inputs (fixed English, so runs compare), the raw model
call it wraps (what plain transformers would do for the same answer on the same model object), and its
service call (the app's services/ function the endpoint's tab calls, without the tab).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import pipeline

from services import attention, generation, sentiment, translation, zero_shot
from services.inputs import DEFAULT_TEMPLATE
from testkit.tokenizers import CORPUS

SHORT_TEXT = "The animal didn't cross the street because it was too tired"
LABELS = ("education", "politics", "business")
PROMPT = "So today, I just feel like"
TRANSLATION_TOKENS = 20  # opus-mt writes ~20 French tokens for SHORT_TEXT's 14 English ones


def text_of_tokens(tokenizer: Any, tokens: int) -> str:
    """testkit's corpus, repeated and cut to about `tokens` tokens of `tokenizer`, its special tokens
    included (decoding and re-encoding may move the count by a token or two)."""
    specials = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    wanted = max(1, tokens - specials)
    ids: list[int] = []
    while len(ids) < wanted:
        ids += tokenizer(" ".join(CORPUS), add_special_tokens=False, verbose=False)["input_ids"]
    return tokenizer.decode(ids[:wanted], skip_special_tokens=True).strip()


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens of `text` as the app would feed them, special tokens included."""
    return len(tokenizer(text, verbose=False)["input_ids"])


def forward(model: Any, inputs: dict[str, torch.Tensor], *, attentions: bool) -> Any:
    with torch.inference_mode():
        return model(**inputs, output_attentions=attentions) if attentions else model(**inputs)


def raw_generate(loaded: Any, inputs: dict[str, torch.Tensor], tokens: int, *, beams: int = 1) -> torch.Tensor:
    """Raw `generate` of `tokens` new tokens, without sampling: the ids, prompt included."""
    options = {"max_new_tokens": tokens, "num_beams": beams, "do_sample": False}
    with torch.inference_mode():
        return loaded.model.generate(**inputs, **options, pad_token_id=loaded.tokenizer.pad_token_id)


def encoded(tokenizer: Any, text: str | list[str]) -> dict[str, torch.Tensor]:
    return dict(tokenizer(text, return_tensors="pt"))


def nli_pairs(tokenizer: Any, texts: str | Sequence[str]) -> dict[str, torch.Tensor]:
    """The zero-shot service's batch: each text paired with each of the three labels' hypotheses."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    premises = [text for text in texts for _ in LABELS]
    hypotheses = [DEFAULT_TEMPLATE.format(label) for _ in texts for label in LABELS]
    return dict(tokenizer(premises, hypotheses, padding=True, return_tensors="pt"))


@dataclass(frozen=True)
class Case:
    """One request to an endpoint (its key in CASES), the raw model call it wraps, and its service call."""

    kwargs: dict[str, Any]
    raw: Callable[[], Any]
    service: Callable[[], Any]


def _text(tokenizer: Any, tokens: int | None) -> str:
    return SHORT_TEXT if tokens is None else text_of_tokens(tokenizer, tokens)


def sentiment_case(store: Any, tokens: int | None = None) -> Case:
    """Raw: the text-classification pipeline on the same model object."""
    loaded = store.get("distilbert")
    text = _text(loaded.tokenizer, tokens)
    classifier = pipeline("text-classification", model=loaded.model, tokenizer=loaded.tokenizer)
    return Case({"text": text}, lambda: classifier(text), lambda: sentiment.classify([text], model=loaded.source))


def attention_case(store: Any, tokens: int | None = None) -> Case:
    """Raw: one BERT forward pass without attentions."""
    loaded = store.get("bert")
    text = _text(loaded.tokenizer, tokens)
    batch = encoded(loaded.tokenizer, text)
    return Case(
        {"text": text},
        lambda: forward(loaded.model, batch, attentions=False),
        lambda: attention.attend(text, model=loaded.source, kind=loaded.kind),
    )


def zero_shot_case(store: Any, tokens: int | None = None) -> Case:
    """Raw: one batched forward of the three NLI pairs (the pipeline would run them one by one)."""
    loaded = store.get("bart")
    text = _text(loaded.tokenizer, tokens)
    batch = nli_pairs(loaded.tokenizer, text)
    return Case(
        {"text": text, "labels": ", ".join(LABELS), "hypothesis_template": DEFAULT_TEMPLATE},
        lambda: forward(loaded.model, batch, attentions=False),
        lambda: zero_shot.classify(text, list(LABELS), model=loaded.source),
    )


def translate_case(store: Any, tokens: int | None = None) -> Case:
    """Raw: greedy `generate` to the server's token limit (the random decoder never stops earlier)."""
    loaded = store.get("marian")
    text = _text(loaded.tokenizer, tokens)
    limit = TRANSLATION_TOKENS if tokens is None else tokens
    batch, models = encoded(loaded.tokenizer, text), {"French": loaded.source}
    return Case(
        {"text": text, "target_language": "French"},
        lambda: raw_generate(loaded, batch, limit),
        lambda: translation.translate(text, "French", models=models, max_new_tokens=limit),
    )


def generate_case(store: Any, tokens: int | None = None, *, new_tokens: int = 16) -> Case:
    """Raw: greedy `generate`; at a length of n tokens, a prompt of n/2 and n/2 new tokens."""
    loaded = store.get("smollm2")
    prompt = PROMPT if tokens is None else text_of_tokens(loaded.tokenizer, tokens // 2)
    new = new_tokens if tokens is None else tokens // 2
    batch, options = encoded(loaded.tokenizer, prompt), generation.GenerationOptions(max_new_tokens=new)
    return Case(
        {"prompt": prompt, "max_new_tokens": new},
        lambda: raw_generate(loaded, batch, new),
        lambda: generation.generate(prompt, options, model=loaded.source),
    )


CASES = {
    "/sentiment": sentiment_case,
    "/attention": attention_case,
    "/zero_shot": zero_shot_case,
    "/translate": translate_case,
    "/generate": generate_case,
}
