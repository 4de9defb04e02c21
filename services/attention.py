"""Attention heatmap: run a model on a text (or a sentence pair) only to look at its attention.

Shaped like a pipeline: `encode` is the preprocessing, `forward` the model alone, `postprocess`
names the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from services import gpu
from services.attention_maps import AttentionMaps, self_attentions, stack_attentions
from services.config import short_name
from services.encoding import Encoded, encode
from services.models import MODELS, LoadedModel, ProgressCallback


@dataclass(frozen=True)
class AttentionResult:
    """The attention of one input; `model` is the checkpoint it came from, as configured."""

    model: str
    truncated: bool
    attention: AttentionMaps

    def as_raw_output(self) -> dict[str, object]:
        return {
            "model": short_name(self.model),  # a local folder's last parts, not where the server keeps it
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
    MODELS.get(kind, model, precision=precision, on_load=on_load)  # here, in the server, with progress
    return compute(text, text_pair, model=model, kind=kind, precision=precision, max_tokens=max_tokens)


@gpu.run(gpu.one_pass)
def compute(
    text: str, text_pair: str | None, *, model: str, kind: str, precision: str, max_tokens: int | None
) -> AttentionResult:
    """`attend` once its model is loaded: on a GPU when one is lent (services.gpu)."""
    loaded = MODELS.get(kind, model, precision=precision)
    encoded = encode(loaded, [text], [text_pair] if text_pair else None, max_tokens=max_tokens)
    return postprocess(loaded, encoded, forward(loaded, encoded.batch))


def forward(loaded: LoadedModel, inputs: Any) -> Any:
    with torch.inference_mode():
        return loaded.model(**inputs, output_attentions=True)


def postprocess(loaded: LoadedModel, encoded: Encoded, outputs: Any) -> AttentionResult:
    axis = encoded.axis(loaded.tokenizer, 0)
    return AttentionResult(
        model=loaded.source,
        truncated=encoded.truncated[0],
        attention=AttentionMaps(
            title=f"Self-attention of {short_name(loaded.source)}",
            query=axis,
            key=axis,
            weights=stack_attentions(self_attentions(outputs)),
            facts=loaded.facts,
        ),
    )
