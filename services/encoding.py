"""Tokenising for a loaded model (cut to its limit, saying when), and splitting a batch into passes.

Every task's `preprocess` goes through `encode`; sentiment and zero-shot run their `forward` over
`passes`, so the attention one pass returns stays within a byte budget.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from services.model_facts import ModelFacts
from services.models import LoadedModel
from services.tokens import TokenAxis, token_axis


@dataclass(frozen=True)
class Encoded:
    """A tokenised batch on the model's device; `truncated[i]` is True when input i was cut."""

    batch: Any
    truncated: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.truncated)

    @property
    def length(self) -> int:
        """Tokens per input, padding included."""
        return int(self.batch["input_ids"].shape[-1])

    def rows(self, items: range) -> dict[str, Any]:
        """The model inputs of inputs `items` only, for one forward pass."""
        return {key: value[items.start : items.stop] for key, value in self.batch.items()}

    def real_positions(self, item: int) -> list[int]:
        """Positions of input `item`'s real (not padding) tokens, for left or right padding."""
        return [int(i) for i in self.batch["attention_mask"][item].nonzero().flatten().tolist()]

    def type_ids(self, item: int, positions: Sequence[int]) -> tuple[int, ...]:
        """Token type ids of input `item` at `positions` (BERT's sentence pairs); () when the tokenizer gives none."""
        if "token_type_ids" not in self.batch:
            return ()
        row = self.batch["token_type_ids"][item].tolist()
        return tuple(int(row[p]) for p in positions)

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
    keep_end: bool = False,
) -> Encoded:
    """Tokenise `texts` (with optional second sentences), padded, cut to the model's limit or to
    `max_tokens`, whichever is smaller. `keep_end` keeps a text's last tokens instead of its first
    (a prompt: the continuation follows its end)."""
    tokenizer = loaded.tokenizer
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # decoder-only tokenizers often lack one
    texts, pairs = list(texts), list(pairs) if pairs is not None else None
    limit = token_limit(loaded, max_tokens)
    if keep_end:
        return _keep_end(loaded, texts, limit)
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


def _keep_end(loaded: LoadedModel, texts: list[str], limit: int) -> Encoded:
    """One text's last `limit` tokens (the tokenizer's own truncation cuts the end, or needs a shared
    tokenizer's `truncation_side` switched, which other requests would see)."""
    if len(texts) != 1:
        raise ValueError("keep_end encodes one text at a time.")
    batch = loaded.tokenizer(texts, return_tensors="pt", verbose=False)
    truncated = batch["input_ids"].shape[-1] > limit
    for key in list(batch.keys()):
        batch[key] = batch[key][:, -limit:]
    return Encoded(batch=batch.to(loaded.device), truncated=(truncated,))


def token_limit(loaded: LoadedModel, max_tokens: int | None = None) -> int:
    """The most tokens an input may have: the model's own limit, or `max_tokens` if smaller."""
    return loaded.max_length if max_tokens is None else min(loaded.max_length, max_tokens)


def items_per_pass(facts: ModelFacts, tokens: int, max_attention_bytes: int | None) -> int:
    """How many inputs of `tokens` tokens one forward pass may take, for the attention it returns to
    stay within `max_attention_bytes`. Each layer returns a [heads, tokens, tokens] float32 array per
    input; an encoder-decoder also returns its decoder's self- and cross-attention."""
    if max_attention_bytes is None:
        return 1_000_000
    arrays = facts.layers + 2 * facts.decoder_layers
    return max(1, max_attention_bytes // (arrays * facts.heads * tokens * tokens * 4))


def passes(encoded: Encoded, facts: ModelFacts, max_attention_bytes: int | None) -> Iterator[range]:
    """The inputs of `encoded`, in consecutive runs that one forward pass each may take."""
    per_pass = items_per_pass(facts, encoded.length, max_attention_bytes)
    for start in range(0, len(encoded), per_pass):
        yield range(start, min(start + per_pass, len(encoded)))
