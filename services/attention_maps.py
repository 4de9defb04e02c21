"""Attention weights of one input, shaped for plotting; the one typed result every task returns.

Like bertviz's util, this only reshapes what the model returned: no model is loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.errors import InputError
from services.model_facts import ModelFacts
from services.text import as_whole_number, blank, echo
from services.tokens import TokenAxis


class AttentionMissingError(RuntimeError):
    """The model returned no attentions (it was not loaded with eager attention)."""


@dataclass(frozen=True)
class TopTokens:
    """The next-token distribution at one generation step: the most likely tokens, plus the chosen one.

    `before` is the softmax of the model's raw logits; `after` is the distribution sampling drew
    from, after temperature, top-k and top-p (equal to `before` under greedy decoding).
    """

    tokens: tuple[str, ...]
    before: tuple[float, ...]
    after: tuple[float, ...]
    chosen: int


@dataclass(frozen=True)
class Step:
    """One decoding step: the query row whose output chose the token, and that token."""

    query: int
    token: str
    top: TopTokens | None = None


@dataclass(frozen=True, eq=False)
class AttentionMaps:
    """The attention of one input through every layer and head.

    weights: float32 array [layers, heads, query_len, key_len]; row i is how query token i
    spreads its attention over the key tokens, exactly as the model returned it.
    `cross` is True when queries and keys are different sequences (a decoder reading its source);
    `steps` lists the decoding steps, in order, when the queries were generated.
    """

    title: str
    query: TokenAxis
    key: TokenAxis
    weights: np.ndarray
    model: ModelFacts | None = None
    cross: bool = False
    steps: tuple[Step, ...] = ()

    @property
    def query_tokens(self) -> tuple[str, ...]:
        return self.query.tokens

    @property
    def key_tokens(self) -> tuple[str, ...]:
        return self.key.tokens

    @property
    def num_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def num_heads(self) -> int:
        return self.weights.shape[1]

    def layer_index(self, layer: Any) -> int:
        """The 0-based index of `layer`, counted from 1; None or blank means the last layer."""
        if blank(layer):
            return self.num_layers - 1
        number = as_whole_number(layer)
        if number is None:
            raise InputError(f"Layer must be a number from 1 to {self.num_layers}, not {echo(layer)}.")
        if not 1 <= number <= self.num_layers:
            raise InputError(f"Layer {echo(number)} does not exist; this model has layers 1 to {self.num_layers}.")
        return number - 1

    def head_choice(self, head: Any) -> str:
        """`head` as "mean", "max", or a head number from 1 as a string; None or blank means "mean"."""
        if blank(head):
            return "mean"
        if isinstance(head, str) and head.strip().lower() in HEAD_SUMMARIES:
            return head.strip().lower()
        number = as_whole_number(head)
        if number is None:
            raise InputError(f"Head must be 'mean', 'max' or a number from 1 to {self.num_heads}, not {echo(head)}.")
        if not 1 <= number <= self.num_heads:
            raise InputError(f"Head {echo(number)} does not exist; this model has heads 1 to {self.num_heads}.")
        return str(number)

    def matrix(self, layer: int | str | None, head: int | str | None = "mean") -> np.ndarray:
        """One [query_len, key_len] matrix: `layer` and `head` count from 1; head may be "mean" or "max"."""
        return combine_heads(self.weights[self.layer_index(layer)], self.head_choice(head))


HEAD_SUMMARIES = ("mean", "max")


def combine_heads(heads: np.ndarray, head: str) -> np.ndarray:
    """[heads, query, key] -> [query, key]: one head (numbered from 1), or their mean or max."""
    if head == "mean":
        return heads.mean(axis=0)
    if head == "max":
        return heads.max(axis=0)
    return heads[int(head) - 1]


def stack_attentions(
    attentions: Sequence[Any] | None,
    *,
    item: int = 0,
    query_positions: Sequence[int] | None = None,
    key_positions: Sequence[int] | None = None,
) -> np.ndarray:
    """Stack per-layer tensors [batch, heads, query, key] into float32 [layers, heads, query, key].

    `item` picks one input of the batch; the position lists drop padding from its rows and columns.
    """
    if not attentions or any(layer is None for layer in attentions):
        raise AttentionMissingError(
            "The model returned no attention weights; load it with attn_implementation='eager'."
        )
    stacked = np.stack([layer[item].detach().float().cpu().numpy() for layer in attentions])
    if query_positions is not None:
        stacked = stacked[:, :, list(query_positions), :]
    if key_positions is not None:
        stacked = stacked[:, :, :, list(key_positions)]
    return np.ascontiguousarray(stacked, dtype=np.float32)


def self_attentions(outputs: Any) -> Any:
    """The encoder's self-attentions of an encoder-decoder output, else the model's own."""
    return getattr(outputs, "encoder_attentions", None) or getattr(outputs, "attentions", None)


def real_positions(attention_mask: Any, item: int = 0) -> list[int]:
    """Positions of real (not padding) tokens of one batch item, for left or right padding."""
    return [int(i) for i in attention_mask[item].nonzero().flatten().tolist()]


def items_per_pass(facts: ModelFacts, tokens: int, max_attention_bytes: int | None) -> int:
    """How many inputs of `tokens` tokens one forward pass may take, for the attention it returns to
    stay within `max_attention_bytes`. Each layer returns a [heads, tokens, tokens] float32 array per
    input; an encoder-decoder also returns its decoder's self- and cross-attention."""
    if max_attention_bytes is None:
        return 1_000_000
    arrays = facts.layers + 2 * facts.decoder_layers
    return max(1, max_attention_bytes // (arrays * facts.heads * tokens * tokens * 4))
