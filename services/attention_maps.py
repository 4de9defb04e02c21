"""Attention weights of one input, shaped for plotting; the one typed result every task returns.

Like bertviz's util, this only reshapes what the model returned: no model is loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from services.model_facts import ModelFacts
from services.recipe import Recipe
from services.tokens import TokenAxis


class AttentionMissingError(RuntimeError):
    """The model returned no attentions (it was not loaded with eager attention)."""


@dataclass(frozen=True)
class TopTokens:
    """The next-token distribution at one generation step: the most likely tokens, plus the chosen one.

    `before` is the softmax of the model's raw logits; `after` is the distribution sampling drew
    from, after temperature, top-k and top-p (equal to `before` under greedy decoding).
    `tokens` are the raw pieces; `texts` the same tokens as a person reads them (default: the pieces).
    """

    tokens: tuple[str, ...]
    before: tuple[float, ...]
    after: tuple[float, ...]
    chosen: int
    texts: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.texts:
            object.__setattr__(self, "texts", tuple(self.tokens))


@dataclass(frozen=True)
class Step:
    """One decoding step: the query row whose output chose the token, and that token (raw, and as read)."""

    query: int
    token: str
    top: TopTokens | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", self.token)


@dataclass(frozen=True, eq=False)
class AttentionMaps:
    """The attention of one input through every layer and head.

    weights: float32 array [layers, heads, query_len, key_len]; row i is how query token i
    spreads its attention over the key tokens, exactly as the model returned it.
    `cross` is True when queries and keys are different sequences (a decoder reading its source);
    `steps` lists the decoding steps, in order, when the queries were generated; `facts` describe
    the model that returned them; `recipe` is how to run its answer again, for a lens asked for later
    (None where the run has no answer to explain, as on the attention tab). `focus` is the query position
    the run is about (fill-mask's mask), in focus until the visitor picks another. Plain data: the
    explorer checks a visitor's layer or head.
    """

    title: str
    query: TokenAxis
    key: TokenAxis
    weights: np.ndarray
    facts: ModelFacts | None = None
    cross: bool = False
    steps: tuple[Step, ...] = ()
    recipe: Recipe | None = None
    focus: int | None = None

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
