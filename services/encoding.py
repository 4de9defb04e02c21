"""Tokenising for a loaded model: truncate to its limit, and say when that happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.models import LoadedModel
from services.tokens import TokenAxis, token_axis


@dataclass(frozen=True)
class Encoded:
    """A tokenised batch on the model's device; `truncated[i]` is True when input i was cut."""

    batch: Any
    truncated: tuple[bool, ...]

    def axis(self, tokenizer: Any, item: int, positions: Sequence[int] | None = None) -> TokenAxis:
        """The tokens of input `item` at `positions` (default: all), and how much padding it had."""
        ids = self.batch["input_ids"][item].tolist()
        positions = range(len(ids)) if positions is None else positions
        padding = int((self.batch["attention_mask"][item] == 0).sum())
        return token_axis(tokenizer, [ids[p] for p in positions], padding=padding)


def encode(
    loaded: LoadedModel,
    texts: Sequence[str],
    pairs: Sequence[str] | None = None,
    *,
    truncation: str = "longest_first",
    max_tokens: int | None = None,
) -> Encoded:
    """Tokenise `texts` (with optional second sentences), padded, cut to the model's limit or to
    `max_tokens`, whichever is smaller."""
    tokenizer = loaded.tokenizer
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # decoder-only tokenizers often lack one
    texts, pairs = list(texts), list(pairs) if pairs is not None else None
    limit = token_limit(loaded, max_tokens)
    batch = tokenizer(texts, pairs, padding=True, truncation=truncation, max_length=limit, return_tensors="pt").to(
        loaded.device
    )
    # Only an input that fills the limit can have been cut: tokenise just those again, uncut.
    at_limit = [i for i, n in enumerate(batch["attention_mask"].sum(dim=-1).tolist()) if n == limit]
    truncated = [False] * len(texts)
    if at_limit:
        full = tokenizer([texts[i] for i in at_limit], [pairs[i] for i in at_limit] if pairs else None, verbose=False)
        for i, ids in zip(at_limit, full["input_ids"], strict=True):
            truncated[i] = len(ids) > limit
    return Encoded(batch=batch, truncated=tuple(truncated))


def token_limit(loaded: LoadedModel, max_tokens: int | None = None) -> int:
    """The most tokens an input may have: the model's own limit, or `max_tokens` if smaller."""
    return loaded.max_length if max_tokens is None else min(loaded.max_length, max_tokens)
