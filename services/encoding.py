"""Tokenising for a loaded model: truncate to its limit, and say when that happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.models import LoadedModel


@dataclass(frozen=True)
class Encoded:
    """A tokenised batch on the model's device; `truncated[i]` is True when input i was cut."""

    batch: Any
    truncated: tuple[bool, ...]

    def tokens(self, tokenizer: Any, item: int, positions: Sequence[int]) -> tuple[str, ...]:
        ids = self.batch["input_ids"][item].tolist()
        return tuple(tokenizer.convert_ids_to_tokens([ids[p] for p in positions]))


def encode(
    loaded: LoadedModel,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    *,
    truncation: str = "longest_first",
) -> Encoded:
    """Tokenise `texts` (with optional second sentences), padded, cut to the model's limit."""
    tokenizer = loaded.tokenizer
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # decoder-only tokenizers often lack one
    full = tokenizer(list(texts), list(pairs) if pairs is not None else None, verbose=False)
    limit = loaded.max_length
    truncated = tuple(len(ids) > limit for ids in full["input_ids"])
    batch = tokenizer(
        list(texts),
        list(pairs) if pairs is not None else None,
        padding=True,
        truncation=truncation,
        max_length=limit,
        return_tensors="pt",
    ).to(loaded.device)
    return Encoded(batch=batch, truncated=truncated)
