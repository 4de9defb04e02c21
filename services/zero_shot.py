"""Zero-shot classification: every label posed as an NLI hypothesis, the pairs batched.

Scores follow transformers' zero-shot-classification pipeline exactly; the attention shown is
that same run's, for the pair of the winning label. Pairs go through in as few forward passes as
keep each pass's returned attention within a byte budget (it grows with labels × tokens²).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from services.attention_maps import (
    AttentionMaps,
    items_per_pass,
    real_positions,
    self_attentions,
    stack_attentions,
)
from services.encoding import encode, token_limit
from services.errors import InputError
from services.inputs import DEFAULT_TEMPLATE, check_template, parse_labels  # noqa: F401  (part of this task's API)
from services.models import MODELS, ProgressCallback
from services.text import shorten


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
    max_tokens: int | None = None,
    max_attention_bytes: int | None = None,
    on_load: ProgressCallback | None = None,
    on_pass: ProgressCallback | None = None,
) -> ZeroShotResult:
    """`max_tokens` cuts the premise; `max_attention_bytes` bounds the attention of one forward pass.
    `on_pass` hears which pairs each pass reads, when they take more than one."""
    loaded = MODELS.get("sequence-classification", model, precision=precision, on_load=on_load)
    entailment = _label_id(loaded.model.config, "entail")
    independent = multi_label or len(labels) == 1
    hypotheses = [hypothesis_template.format(label) for label in labels]
    _check_room(loaded, hypotheses, labels, token_limit(loaded, max_tokens))
    # only_first: cut the premise, never the hypothesis that names the label.
    encoded = encode(loaded, [text] * len(labels), hypotheses, truncation="only_first", max_tokens=max_tokens)
    per_pass = items_per_pass(loaded.facts, encoded.batch["input_ids"].shape[-1], max_attention_bytes)
    logits, label_attention, leader = [], {}, None
    for start in range(0, len(labels), per_pass):
        items = range(start, min(start + per_pass, len(labels)))
        if on_pass is not None and per_pass < len(labels):
            on_pass(f"Reading labels {items.start + 1}–{items.stop} of {len(labels)} (in parts, to fit in memory)…")
        attentions, chunk_logits = _forward(loaded, encoded, items)
        logits.append(chunk_logits)
        for i in items:
            label_attention[i] = _hypothesis_to_premise(loaded, encoded, attentions, i, start, labels[i])
        # Only the leading pair's whole attention is kept, so memory stays at one pass's worth.
        keys = _leader_keys(chunk_logits, entailment, independent)
        first = int(keys.argmax())
        if leader is None or keys[first] > leader[0]:
            leader = (keys[first], start + first, _whole_pair(encoded, attentions, start + first, start))
    scores = _scores(torch.cat(logits), entailment, independent)
    order = sorted(range(len(labels)), key=lambda i: scores[i], reverse=True)
    best = order[0]
    if leader[1] != best:  # scores tied after rounding and the sort ranked another pair first
        attentions, _ = _forward(loaded, encoded, range(best, best + 1))
        leader = (None, best, _whole_pair(encoded, attentions, best, best))
    id2label = loaded.model.config.id2label
    nli = torch.softmax(torch.cat(logits), dim=-1).tolist()
    axis = encoded.axis(loaded.tokenizer, best, real_positions(encoded.batch["attention_mask"], best))
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
            weights=leader[2],
            model=loaded.facts,
        ),
        nli=tuple({id2label[j]: p for j, p in enumerate(nli[i])} for i in order),
        label_attention=tuple(label_attention[i] for i in order),
    )


def _check_room(loaded, hypotheses: Sequence[str], labels: Sequence[str], limit: int) -> None:
    """Each hypothesis must leave room for the premise: the premise is cut to fit, the hypothesis never."""
    specials = loaded.tokenizer.num_special_tokens_to_add(pair=True)
    lengths = loaded.tokenizer(list(hypotheses), add_special_tokens=False, verbose=False)["input_ids"]
    for label, ids in zip(labels, lengths, strict=True):
        if len(ids) + specials >= limit:
            raise InputError(
                f"The hypothesis for the label '{shorten(label)}' is too long: it takes {len(ids)} tokens, and "
                f"each premise + hypothesis pair may have at most {limit}. Use a shorter label or template."
            )


def _forward(loaded, encoded, items: range) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """The self-attentions and logits of pairs `items` of the encoded batch, in one pass."""
    chunk = {key: value[items.start : items.stop] for key, value in encoded.batch.items()}
    with torch.inference_mode():
        outputs = loaded.model(**chunk, output_attentions=True)
    return self_attentions(outputs), outputs.logits.float().cpu()


def _leader_keys(logits: torch.Tensor, entailment: int, independent: bool) -> torch.Tensor:
    """Per pair, a number that ranks pairs as `_scores` does, from that pair's logits alone."""
    if independent:
        contradiction = -1 if entailment == 0 else 0
        return logits[:, entailment] - logits[:, contradiction]
    return logits[:, entailment]


def _whole_pair(encoded, attentions, item: int, start: int):
    """Pair `item`'s attention over its real tokens; `attentions` hold pairs from `start` on."""
    positions = real_positions(encoded.batch["attention_mask"], item)
    return stack_attentions(attentions, item=item - start, query_positions=positions, key_positions=positions)


def _hypothesis_to_premise(loaded, encoded, attentions, item: int, start: int, label: str) -> AttentionMaps:
    """The block of pair `item`'s attention whose rows are hypothesis tokens and columns premise tokens;
    `attentions` hold the pairs from `start` on."""
    sequence_ids = encoded.batch.sequence_ids(item)
    premise = [p for p, s in enumerate(sequence_ids) if s == 0]
    hypothesis = [p for p, s in enumerate(sequence_ids) if s == 1]
    return AttentionMaps(
        title=f"'{label}': hypothesis tokens → premise tokens",
        query=encoded.axis(loaded.tokenizer, item, hypothesis),
        key=encoded.axis(loaded.tokenizer, item, premise),
        weights=stack_attentions(attentions, item=item - start, query_positions=hypothesis, key_positions=premise),
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
