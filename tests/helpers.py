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
