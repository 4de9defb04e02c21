"""Hand-written references for the lenses: forward hooks that zero heads, and plain autograd.

Nothing here calls services/lenses. The heads are zeroed where a head's output enters the layer's
output projection (listed by hand for each family), and eager attention runs as transformers ships it:
the app's knock-out pass-through is taken out for the reference's own passes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

# Per family, the Linear that mixes one layer's head outputs back into the residual stream.
PROJECTIONS = {
    "DistilBertForSequenceClassification": lambda m, stack: [
        b.attention.out_lin for b in m.distilbert.transformer.layer
    ],
    "BertModel": lambda m, stack: [b.attention.output.dense for b in m.encoder.layer],
    "BertForSequenceClassification": lambda m, stack: [b.attention.output.dense for b in m.bert.encoder.layer],
    "BartForSequenceClassification": lambda m, stack: [b.self_attn.out_proj for b in m.model.encoder.layers],
    "LlamaForCausalLM": lambda m, stack: [b.self_attn.o_proj for b in m.model.layers],
    "MarianMTModel": lambda m, stack: (
        [b.encoder_attn.out_proj for b in m.model.decoder.layers]
        if stack == "cross"
        else [b.self_attn.out_proj for b in m.model.encoder.layers]
    ),
}


def projections(model, stack: str = "attention") -> list[torch.nn.Linear]:
    return PROJECTIONS[type(model).__name__](model, stack)


@contextlib.contextmanager
def plain_eager() -> Iterator[None]:
    """transformers' own eager attention, without the app's pass-through registered for "eager"."""
    saved = ALL_ATTENTION_FUNCTIONS._local_mapping.pop("eager", None)
    try:
        yield
    finally:
        if saved is not None:
            ALL_ATTENTION_FUNCTIONS._local_mapping["eager"] = saved


@contextlib.contextmanager
def zeroed(model, heads: Sequence[tuple[int, int]], *, stack: str = "attention", whole: bool = False):
    """Run `model` with each (layer, head), counted from 1, zeroed where it enters the output projection;
    `whole`: the named layers' entire attention output zeroed instead."""
    layers = projections(model, stack)
    handles = []
    for layer in sorted({layer for layer, _ in heads}):
        chosen = [head for at, head in heads if at == layer]

        def zero(module, args, chosen=chosen):
            x = args[0].clone()
            if whole:
                x.zero_()
            else:
                width = x.shape[-1] // count_heads(model, stack)
                for head in chosen:
                    x[..., (head - 1) * width : head * width] = 0
            return (x, *args[1:])

        handles.append(layers[layer - 1].register_forward_pre_hook(zero))
    try:
        with plain_eager():
            yield
    finally:
        for handle in handles:
            handle.remove()


def count_heads(model, stack: str = "attention") -> int:
    config = model.config
    if getattr(config, "is_encoder_decoder", False):
        return config.decoder_attention_heads if stack == "cross" else config.encoder_attention_heads
    return config.num_attention_heads


@contextlib.contextmanager
def embedding_leaves(modules: Sequence[torch.nn.Module]) -> Iterator[list[torch.Tensor]]:
    """Each module's output made a leaf that autograd reports gradients for; the list fills as they run."""
    leaves: list[torch.Tensor] = []

    def keep(module, args, output):
        leaf = output.detach().requires_grad_(True)
        leaves.append(leaf)
        return leaf

    handles = [module.register_forward_hook(keep) for module in modules]
    try:
        with plain_eager():
            yield leaves
    finally:
        for handle in handles:
            handle.remove()
