"""Transformers computed directly, as a reader of the app would check it."""

from __future__ import annotations

import numpy as np
import torch
from transformers import AutoTokenizer

from components.explorer import OUTPUTS, VIEW_OUTPUTS, shaping
from components.explorer.view import parse_view


def load_direct(model_class, source, **kwargs):
    """Tokenizer and eager-attention model, loaded straight from transformers."""
    tokenizer = AutoTokenizer.from_pretrained(str(source), **kwargs)
    model = model_class.from_pretrained(str(source), attn_implementation="eager", **kwargs).eval()
    return tokenizer, model


def stacked(attentions) -> np.ndarray:
    """Per-layer [1, heads, q, k] tensors -> [layers, heads, q, k] float32."""
    return np.stack([layer[0].detach().float().numpy() for layer in attentions])


@torch.inference_mode()
def forward(model, **inputs):
    return model(**inputs, output_attentions=True)


# What the attention explorer returns through the API, in order (its gr.State is not sent), and what a redraw does.
EXPLORER_OUTPUTS = OUTPUTS
REDRAW_OUTPUTS = VIEW_OUTPUTS


def chosen_matrix(maps, layer=None, head=None) -> np.ndarray:
    """The [query, key] matrix the explorer shows for `layer` and `head` as a visitor sends them."""
    view = parse_view({"layer": layer, "head": head}, [maps])
    return shaping.layer_view(maps, view.layer, view.head, **view.switches)[1]


def explorer_outputs(outputs, start: int = 0, names=EXPLORER_OUTPUTS) -> dict:
    """The explorer's outputs, by name, from an endpoint's outputs starting at `start`."""
    return dict(zip(names, outputs[start : start + len(names)], strict=True))
