"""Transformers computed directly, as a reader of the app would check it."""

from __future__ import annotations

import numpy as np
import torch
from transformers import AutoTokenizer


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


# What the attention explorer returns through the API, in order (its gr.State is not sent).
EXPLORER_OUTPUTS = (
    "item",
    "layer",
    "head",
    "focus",
    "step",
    "plot",
    "sentence",
    "focus_plot",
    "top_plot",
    "files",
    "summary",
    "inside",
    "tokens",
)
REDRAW_OUTPUTS = ("focus", "step", "plot", "sentence", "focus_plot", "top_plot", "files")


def explorer_outputs(outputs, start: int = 0, names=EXPLORER_OUTPUTS) -> dict:
    """The explorer's outputs, by name, from an endpoint's outputs starting at `start`."""
    return dict(zip(names, outputs[start : start + len(names)], strict=True))
