"""Sentiment: a sequence classifier over one or more texts, with each text's attention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from services.attention_maps import AttentionMaps, items_per_pass, real_positions, stack_attentions
from services.config import short_name
from services.encoding import encode
from services.models import MODELS, ProgressCallback


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
) -> list[SentimentPrediction]:
    """Classify the texts in batched forward passes, keeping those passes' attentions.

    `max_tokens` cuts each text; `max_attention_bytes` bounds the attention one pass returns (it grows
    with texts × longest text², padding included), so many long texts take several passes.
    """
    loaded = MODELS.get("sequence-classification", model, precision=precision, on_load=on_load)
    encoded = encode(loaded, texts, max_tokens=max_tokens)
    per_pass = items_per_pass(loaded.facts, encoded.batch["input_ids"].shape[-1], max_attention_bytes)
    id2label = loaded.model.config.id2label
    predictions = []
    for start in range(0, len(texts), per_pass):
        chunk = {key: value[start : start + per_pass] for key, value in encoded.batch.items()}
        with torch.inference_mode():
            outputs = loaded.model(**chunk, output_attentions=True)
        probabilities = _probabilities(outputs.logits, loaded.model.config)
        for offset, row in enumerate(probabilities):
            i = start + offset
            positions = real_positions(encoded.batch["attention_mask"], i)
            axis = encoded.axis(loaded.tokenizer, i, positions)
            best = int(row.argmax())
            predictions.append(
                SentimentPrediction(
                    text=texts[i],
                    label=id2label[best],
                    score=float(row[best]),
                    probabilities={id2label[j]: float(p) for j, p in enumerate(row)},
                    truncated=encoded.truncated[i],
                    attention=AttentionMaps(
                        title=f"Self-attention of {short_name(model)}",
                        query=axis,
                        key=axis,
                        weights=stack_attentions(
                            outputs.attentions, item=offset, query_positions=positions, key_positions=positions
                        ),
                        model=loaded.facts,
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
