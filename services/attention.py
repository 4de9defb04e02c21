"""Attention heatmap: run a model on a text (or a sentence pair) only to look at its attention."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from services.attention_maps import AttentionMaps, self_attentions, stack_attentions
from services.config import short_name
from services.encoding import encode
from services.models import MODELS, ProgressCallback


@dataclass(frozen=True)
class AttentionResult:
    """The attention of one input, and the shape of the model that made it."""

    model: str
    truncated: bool
    attention: AttentionMaps

    def as_raw_output(self) -> dict[str, object]:
        return {
            "model": self.model,
            "tokens": list(self.attention.query_tokens),
            "num_layers": self.attention.num_layers,
            "num_heads": self.attention.num_heads,
        }


def attend(
    text: str,
    text_pair: str | None = None,
    *,
    model: str,
    kind: str = "encoder",
    precision: str = "fp32",
    max_tokens: int | None = None,
    on_load: ProgressCallback | None = None,
) -> AttentionResult:
    """Self-attention of `model` over `text` (and `text_pair`, as BertViz's head view shows a pair).

    `kind` says how the checkpoint loads ("encoder", "sequence-classification", "causal-lm"),
    so a model another tab already loaded is reused, not loaded twice.
    """
    loaded = MODELS.get(kind, model, precision=precision, on_load=on_load)
    encoded = encode(loaded, [text], [text_pair] if text_pair else None, max_tokens=max_tokens)
    with torch.inference_mode():
        outputs = loaded.model(**encoded.batch, output_attentions=True)
    axis = encoded.axis(loaded.tokenizer, 0)
    return AttentionResult(
        model=model,
        truncated=encoded.truncated[0],
        attention=AttentionMaps(
            title=f"Self-attention of {short_name(model)}",
            query=axis,
            key=axis,
            weights=stack_attentions(self_attentions(outputs)),
            model=loaded.facts,
        ),
    )
