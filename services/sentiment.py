"""Sentiment: a sequence classifier over one or more texts, with each text's attention.

Shaped like a transformers pipeline: `preprocess` tokenises, `forward` runs the model on one pass
of texts, `postprocess` turns that pass's logits and attentions into typed predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from services import gpu
from services.attention_maps import AttentionMaps, stack_attentions
from services.config import short_name
from services.encoding import Encoded, encode, passes
from services.lenses.knockout import knocked_out
from services.models import MODELS, LoadedModel, ProgressCallback
from services.recipe import NONE, KnockOut, Recipe


@dataclass(frozen=True)
class SentimentPrediction:
    """The classifier's verdict on one text; `probabilities` holds every class."""

    text: str
    label: str
    score: float
    probabilities: dict[str, float]
    truncated: bool
    attention: AttentionMaps

    def as_pipeline_output(self) -> dict[str, float | str]:
        """Shaped like one item of transformers' text-classification pipeline output."""
        return {"label": self.label, "score": self.score}


def classify(
    texts: Sequence[str],
    *,
    model: str,
    precision: str = "fp32",
    max_tokens: int | None = None,
    max_attention_bytes: int | None = None,
    on_load: ProgressCallback | None = None,
    knock_out: KnockOut = NONE,
) -> list[SentimentPrediction]:
    """Classify the texts (`model` is a Hub id or folder) in batched passes, keeping their attentions.

    `max_tokens` cuts each text; `max_attention_bytes` bounds the attention one pass returns (it grows
    with texts × longest text², padding included), so many long texts take several passes.
    `knock_out` names heads to run without (their attention is zero).
    """
    MODELS.get(
        "sequence-classification", model, precision=precision, on_load=on_load
    )  # here, in the server, with progress
    return compute(
        tuple(texts),
        model=model,
        precision=precision,
        max_tokens=max_tokens,
        max_attention_bytes=max_attention_bytes,
        knock_out=knock_out,
    )


@gpu.run(gpu.one_pass)
def compute(
    texts: tuple[str, ...],
    *,
    model: str,
    precision: str,
    max_tokens: int | None,
    max_attention_bytes: int | None,
    knock_out: KnockOut,
) -> list[SentimentPrediction]:
    """`classify` once its model is loaded: on a GPU when one is lent (services.gpu)."""
    loaded = MODELS.get("sequence-classification", model, precision=precision)
    encoded = preprocess(loaded, texts, max_tokens=max_tokens)
    predictions: list[SentimentPrediction] = []
    for items in passes(encoded, loaded.facts, max_attention_bytes):
        outputs = forward(loaded, encoded.rows(items), knock_out=knock_out)
        predictions += postprocess(loaded, texts, encoded, items, outputs, knock_out=knock_out)
    return predictions


def preprocess(loaded: LoadedModel, texts: Sequence[str], *, max_tokens: int | None) -> Encoded:
    return encode(loaded, texts, max_tokens=max_tokens)


def forward(loaded: LoadedModel, inputs: dict[str, Any], *, knock_out: KnockOut = NONE) -> Any:
    """The model alone on one pass of inputs: logits and every layer's attention."""
    with torch.inference_mode(), knocked_out(loaded.model, knock_out):
        return loaded.model(**inputs, output_attentions=True)


def postprocess(
    loaded: LoadedModel, texts: Sequence[str], encoded: Encoded, items: range, outputs: Any, *, knock_out=NONE
) -> list[SentimentPrediction]:
    """The predictions of texts `items`, from the outputs of the pass that read them."""
    config = loaded.model.config
    predictions = []
    for offset, row in enumerate(_probabilities(outputs.logits, config)):
        i = items.start + offset
        positions = encoded.real_positions(i)
        axis = encoded.axis(loaded.tokenizer, i, positions)
        best = int(row.argmax())
        predictions.append(
            SentimentPrediction(
                text=texts[i],
                label=config.id2label[best],
                score=float(row[best]),
                probabilities={config.id2label[j]: float(p) for j, p in enumerate(row)},
                truncated=encoded.truncated[i],
                attention=AttentionMaps(
                    title=f"Self-attention of {short_name(loaded.source)}",
                    query=axis,
                    key=axis,
                    weights=stack_attentions(
                        outputs.attentions, item=offset, query_positions=positions, key_positions=positions
                    ),
                    facts=loaded.facts,
                    recipe=Recipe(
                        task="sentiment",
                        model=loaded.source,
                        kind=loaded.kind,
                        precision=loaded.precision,
                        ids=(axis.ids,),
                        answer=best,
                        labels=tuple(config.id2label[j] for j in range(len(row))),
                        type_ids=(encoded.type_ids(i, positions),),
                        knock_out=knock_out,
                    ),
                ),
            )
        )
    return predictions


def _probabilities(logits: torch.Tensor, config) -> torch.Tensor:
    """Scores as the text-classification pipeline computes them (softmax, or sigmoid for one label)."""
    logits = logits.float().cpu()
    if config.problem_type == "multi_label_classification" or config.num_labels == 1:
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=-1)
