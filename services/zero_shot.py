"""Zero-shot classification: every label posed as an NLI hypothesis, all pairs in one batch.

Scores follow transformers' zero-shot-classification pipeline exactly; the attention shown is
that same batch's, for the pair of the winning label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from services.attention_maps import (
    AttentionMaps,
    real_positions,
    self_attentions,
    stack_attentions,
)
from services.encoding import encode
from services.errors import InputError
from services.inputs import DEFAULT_TEMPLATE, check_template, parse_labels  # noqa: F401  (part of this task's API)
from services.models import MODELS, ProgressCallback


@dataclass(frozen=True)
class ZeroShotResult:
    """Labels ranked by score, with what the NLI model made of each label's premise/hypothesis pair.

    `nli[i]` holds label i's probabilities of every NLI class (entailment, neutral, contradiction),
    a softmax over that pair's own logits. `attention` is the whole pair of the winning label;
    `label_attention[i]` is label i's hypothesis tokens (rows) attending to the premise tokens
    (columns), cut from the same forward pass.
    """

    sequence: str
    labels: tuple[str, ...]
    scores: tuple[float, ...]
    multi_label: bool
    hypothesis: str
    truncated: bool
    attention: AttentionMaps
    nli: tuple[dict[str, float], ...]
    label_attention: tuple[AttentionMaps, ...]

    def as_pipeline_output(self) -> dict[str, object]:
        return {"sequence": self.sequence, "labels": list(self.labels), "scores": list(self.scores)}


def classify(
    text: str,
    labels: Sequence[str],
    *,
    model: str,
    multi_label: bool = False,
    hypothesis_template: str = DEFAULT_TEMPLATE,
    precision: str = "fp32",
    on_load: ProgressCallback | None = None,
) -> ZeroShotResult:
    loaded = MODELS.get("sequence-classification", model, precision=precision, on_load=on_load)
    entailment = _label_id(loaded.model.config, "entail")
    hypotheses = [hypothesis_template.format(label) for label in labels]
    # only_first: cut the premise, never the hypothesis that names the label.
    encoded = encode(loaded, [text] * len(labels), hypotheses, truncation="only_first")
    with torch.inference_mode():
        outputs = loaded.model(**encoded.batch, output_attentions=True)
    logits = outputs.logits.float().cpu()
    scores = _scores(logits, entailment, multi_label or len(labels) == 1)
    order = sorted(range(len(labels)), key=lambda i: scores[i], reverse=True)
    best = order[0]
    positions = real_positions(encoded.batch["attention_mask"], best)
    axis = encoded.axis(loaded.tokenizer, best, positions)
    attentions = self_attentions(outputs)
    id2label = loaded.model.config.id2label
    nli = torch.softmax(logits, dim=-1).tolist()
    return ZeroShotResult(
        sequence=text,
        labels=tuple(labels[i] for i in order),
        scores=tuple(float(scores[i]) for i in order),
        multi_label=multi_label,
        hypothesis=hypotheses[best],
        truncated=encoded.truncated[best],
        attention=AttentionMaps(
            title=f"Attention over premise + '{hypotheses[best]}'",
            query=axis,
            key=axis,
            weights=stack_attentions(attentions, item=best, query_positions=positions, key_positions=positions),
            model=loaded.facts,
        ),
        nli=tuple({id2label[j]: p for j, p in enumerate(nli[i])} for i in order),
        label_attention=tuple(_hypothesis_to_premise(loaded, encoded, attentions, i, labels[i]) for i in order),
    )


def _hypothesis_to_premise(loaded, encoded, attentions, item: int, label: str) -> AttentionMaps:
    """The block of pair `item`'s attention whose rows are hypothesis tokens and columns premise tokens."""
    sequence_ids = encoded.batch.sequence_ids(item)
    premise = [p for p, s in enumerate(sequence_ids) if s == 0]
    hypothesis = [p for p, s in enumerate(sequence_ids) if s == 1]
    return AttentionMaps(
        title=f"'{label}': hypothesis tokens → premise tokens",
        query=encoded.axis(loaded.tokenizer, item, hypothesis),
        key=encoded.axis(loaded.tokenizer, item, premise),
        weights=stack_attentions(attentions, item=item, query_positions=hypothesis, key_positions=premise),
        model=loaded.facts,
        cross=True,
    )


def _label_id(config, prefix: str) -> int:
    for label, index in config.label2id.items():
        if label.lower().startswith(prefix):
            return int(index)
    raise InputError(f"This model is not an NLI model: its labels {list(config.label2id)} have no '{prefix}…' label.")


def _scores(logits: torch.Tensor, entailment: int, independent: bool) -> list[float]:
    """As the pipeline: softmax of entailment over labels, or entailment vs contradiction per label."""
    if independent:
        contradiction = -1 if entailment == 0 else 0
        pair = logits[:, [contradiction, entailment]]
        return torch.softmax(pair, dim=-1)[:, 1].tolist()
    return torch.softmax(logits[:, entailment], dim=0).tolist()
