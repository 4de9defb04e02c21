"""Knocking attention heads out of a run: their weights set to zero, so they add nothing to its output.

transformers 5 dropped `head_mask`. Every family the app loads (BERT, DistilBERT, BART, Marian,
Llama-style) calls its attention through transformers' `AttentionInterface`, and under eager attention
gets its own module's `eager_attention_forward` unless "eager" is registered there. `install` registers a
pass-through for "eager": it calls the family's own function, then, for the modules the current context
names, zeroes the chosen heads' weights [batch, heads, query, key] and their part of the output
[batch, query, heads, head_dim] (the weights times the values: zero weights give exactly zero).

The heads live in a context variable, not on the model: switching a shared model's
`attn_implementation`, or hooking its modules, for one request would knock the heads out of every
visitor's run on that model at the same moment.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch
from torch import nn
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from services.inputs import check_heads
from services.recipe import KnockOut

Keep = Mapping[nn.Module, torch.Tensor]  # attention module -> [rows or 1, heads]: 1 keeps a head, 0 knocks it out

_KEEP: ContextVar[Keep | None] = ContextVar("knocked_out_heads", default=None)
_EAGER: dict[type, Callable[..., Any]] = {}


def _family_eager(module: nn.Module) -> Callable[..., Any]:
    """The eager attention function of the module's own modeling file (each family defines one)."""
    kind = type(module)
    if kind not in _EAGER:
        function = getattr(sys.modules[kind.__module__], "eager_attention_forward", None)
        if function is None:
            raise RuntimeError(f"{kind.__name__} has no eager_attention_forward: its heads cannot be knocked out.")
        _EAGER[kind] = function
    return _EAGER[kind]


def _eager_with_knock_out(module: nn.Module, query, key, value, attention_mask, **kwargs):
    """The family's eager attention, with the heads the context knocks out of `module` set to zero."""
    output, weights = _family_eager(module)(module, query, key, value, attention_mask, **kwargs)
    keep = (_KEEP.get() or {}).get(module)
    if keep is None:
        return output, weights
    output = output * keep.to(output.dtype)[:, None, :, None]
    if weights is not None:
        weights = weights * keep.to(weights.dtype)[:, :, None, None]
    return output, weights


def install() -> None:
    """Route eager attention through `_eager_with_knock_out` (idempotent; a pass-through when nothing is out)."""
    ALL_ATTENTION_FUNCTIONS["eager"] = _eager_with_knock_out


def attention_modules(model: nn.Module, stack: str = "attention") -> list[nn.Module]:
    """The modules that call the attention function, one per layer, in order.

    `stack` "attention": the model's self-attention (an encoder-decoder's encoder); "cross": the
    cross-attention of an encoder-decoder's decoder. Found by class (the innermost `…Attention`, since
    BERT's `BertAttention` wraps `BertSelfAttention`) and by name, since `layer_idx` is not on every family.
    """
    pairs = getattr(model.config, "is_encoder_decoder", False)
    found = []
    for name, module in model.named_modules():
        if not type(module).__name__.endswith("Attention"):
            continue
        if any(type(child).__name__.endswith("Attention") for child in module.children()):
            continue
        cross = "encoder_attn" in name or "crossattention" in name
        if cross if stack == "cross" else not cross and (not pairs or ".encoder." in f".{name}."):
            found.append(module)
    return found


def heads_per_layer(model: nn.Module, stack: str = "attention") -> int:
    config = model.config
    if getattr(config, "is_encoder_decoder", False):
        return int(config.decoder_attention_heads if stack == "cross" else config.encoder_attention_heads)
    return int(config.num_attention_heads)


def keep_masks(model: nn.Module, rows: Sequence[KnockOut]) -> dict[nn.Module, torch.Tensor]:
    """For each attention module that loses a head in some row: a [len(rows), heads] mask, row r keeping
    every head `rows[r]` does not knock out. Heads are checked against the model, named as a visitor does."""
    masks: dict[nn.Module, torch.Tensor] = {}
    for stack in ("attention", "cross"):
        if not any(row.of(stack) for row in rows):
            continue
        modules, heads = attention_modules(model, stack), heads_per_layer(model, stack)
        for r, row in enumerate(rows):
            for layer, head in check_heads(row.of(stack), layers=len(modules), heads_per_layer=heads):
                module = modules[layer - 1]
                if module not in masks:
                    masks[module] = torch.ones(len(rows), heads, device=model.device)
                masks[module][r, head - 1] = 0.0
    return masks


@contextmanager
def knocked_out(model: nn.Module, *rows: KnockOut) -> Iterator[None]:
    """Run `model` inside with the heads knocked out: one KnockOut for every row of the batch, or one for all.

    Only this thread's runs (and its current request's) see it; nothing happens when no head is named.
    """
    masks = keep_masks(model, rows) if any(rows) else {}
    if not masks:
        yield
        return
    install()
    token = _KEEP.set({**(_KEEP.get() or {}), **masks})
    try:
        yield
    finally:
        _KEEP.reset(token)
