"""Attention weights of one input, shaped for plotting; the one typed result every task returns.

Like bertviz's util, this only reshapes what the model returned: no model is loaded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.errors import InputError


class AttentionMissingError(RuntimeError):
    """The model returned no attentions (it was not loaded with eager attention)."""


@dataclass(frozen=True, eq=False)
class AttentionMaps:
    """The attention of one input through every layer and head.

    weights: float32 array [layers, heads, query_len, key_len]; row i is how query token i
    spreads its attention over the key tokens, exactly as the model returned it.
    """

    title: str
    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    weights: np.ndarray

    @property
    def num_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def num_heads(self) -> int:
        return self.weights.shape[1]

    def matrix(self, layer: int, head: int | str = "mean") -> np.ndarray:
        """One [query_len, key_len] matrix: `layer` and `head` count from 1; head may be "mean"."""
        if not 1 <= layer <= self.num_layers:
            raise InputError(f"Layer {layer} does not exist; this model has layers 1 to {self.num_layers}.")
        heads = self.weights[layer - 1]
        if head == "mean":
            return heads.mean(axis=0)
        try:
            index = int(head)
        except ValueError:
            raise InputError(f"Head must be 'mean' or a number from 1 to {self.num_heads}, not {head!r}.") from None
        if not 1 <= index <= self.num_heads:
            raise InputError(f"Head {head} does not exist; this model has heads 1 to {self.num_heads}.")
        return heads[index - 1]


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
