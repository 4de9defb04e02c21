"""Zero-shot classification: every label posed as an NLI hypothesis, the pairs batched.

Scores follow transformers' zero-shot-classification pipeline exactly; the attention shown is
that same run's, for the pair of the winning label. Shaped like a pipeline: `preprocess` poses and
tokenises the pairs, `forward` reads one pass of them, `read_pass` keeps what that pass shows
(scores, each label's hypothesis → premise attention, the leading pair), `postprocess` ranks.
Pairs go through in as few passes as keep each pass's returned attention within a byte budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from services import gpu
from services.attention_maps import AttentionMaps, self_attentions, stack_attentions
from services.encoding import Encoded, encode, passes, token_limit
from services.errors import InputError
from services.inputs import DEFAULT_TEMPLATE, echo
from services.lenses.knockout import knocked_out
from services.models import MODELS, LoadedModel, ProgressCallback
from services.recipe import NONE, KnockOut, Recipe


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


@dataclass(frozen=True)
class Pairs:
    """The premise/hypothesis pairs of one request, tokenised; `entailment` is the NLI class that scores."""

    text: str
    labels: tuple[str, ...]
    hypotheses: tuple[str, ...]
    multi_label: bool
    encoded: Encoded
    entailment: int

    @property
    def independent(self) -> bool:
        """Each label scored on its own (entailment vs contradiction) rather than against the others."""
        return self.multi_label or len(self.labels) == 1


@dataclass(frozen=True)
class PassReading:
    """What one forward pass over pairs `items` leaves: their logits, each one's hypothesis → premise
    attention, and its leading pair's whole attention (only the leader's, so memory stays at one pass)."""

    items: range
    logits: torch.Tensor
    label_attention: tuple[AttentionMaps, ...]
    leader: int
    leader_key: float
    leader_weights: np.ndarray


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
    knock_out: KnockOut = NONE,
) -> ZeroShotResult:
    """`max_tokens` cuts the premise; `max_attention_bytes` bounds the attention of one forward pass (pairs
    that take more than one show their progress through tqdm). `knock_out` names heads to run every pair
    without."""
    MODELS.get(
        "sequence-classification", model, precision=precision, on_load=on_load
    )  # here, in the server, with progress
    return compute(
        text,
        tuple(labels),
        model=model,
        multi_label=multi_label,
        hypothesis_template=hypothesis_template,
        precision=precision,
        max_tokens=max_tokens,
        max_attention_bytes=max_attention_bytes,
        knock_out=knock_out,
    )


@gpu.run(gpu.one_pass)
def compute(
    text: str,
    labels: tuple[str, ...],
    *,
    model: str,
    multi_label: bool,
    hypothesis_template: str,
    precision: str,
    max_tokens: int | None,
    max_attention_bytes: int | None,
    knock_out: KnockOut,
) -> ZeroShotResult:
    """`classify` once its model is loaded: on a GPU when one is lent (services.gpu)."""
    loaded = MODELS.get("sequence-classification", model, precision=precision)
    pairs = preprocess(
        loaded, text, labels, multi_label=multi_label, template=hypothesis_template, max_tokens=max_tokens
    )
    chunks = list(passes(pairs.encoded, loaded.facts, max_attention_bytes))
    readings = []
    for items in tqdm(chunks, desc=f"Reading {len(labels)} labels in parts, to fit in memory", disable=len(chunks) < 2):
        outputs = forward(loaded, pairs.encoded.rows(items), knock_out=knock_out)
        readings.append(read_pass(loaded, pairs, items, outputs))
    return postprocess(loaded, pairs, readings, knock_out=knock_out)


def preprocess(
    loaded: LoadedModel, text: str, labels: Sequence[str], *, multi_label: bool, template: str, max_tokens: int | None
) -> Pairs:
    """Pose each label as a hypothesis and tokenise the pairs; the premise is cut to fit, never a hypothesis."""
    hypotheses = [template.format(label) for label in labels]
    _check_room(loaded, hypotheses, labels, token_limit(loaded, max_tokens))
    encoded = encode(loaded, [text] * len(labels), hypotheses, truncation="only_first", max_tokens=max_tokens)
    return Pairs(
        text=text,
        labels=tuple(labels),
        hypotheses=tuple(hypotheses),
        multi_label=multi_label,
        encoded=encoded,
        entailment=_label_id(loaded.model.config, "entail"),
    )


def forward(loaded: LoadedModel, inputs: dict[str, Any], *, knock_out: KnockOut = NONE) -> Any:
    """The model alone on one pass of pairs: logits and every layer's attention."""
    with torch.inference_mode(), knocked_out(loaded.model, knock_out):
        return loaded.model(**inputs, output_attentions=True)


def read_pass(loaded: LoadedModel, pairs: Pairs, items: range, outputs: Any) -> PassReading:
    attentions, logits = self_attentions(outputs), outputs.logits.float().cpu()
    keys = _leader_keys(logits, pairs.entailment, pairs.independent)
    first = int(keys.argmax())
    return PassReading(
        items=items,
        logits=logits,
        label_attention=tuple(_hypothesis_to_premise(loaded, pairs, attentions, i, items.start) for i in items),
        leader=items.start + first,
        leader_key=float(keys[first]),
        leader_weights=_whole_pair(pairs.encoded, attentions, items.start + first, items.start),
    )


def postprocess(
    loaded: LoadedModel, pairs: Pairs, readings: Sequence[PassReading], *, knock_out: KnockOut = NONE
) -> ZeroShotResult:
    """Rank the labels as the pipeline does; the winning pair's whole attention comes from its pass."""
    logits = torch.cat([reading.logits for reading in readings])
    scores = _scores(logits, pairs.entailment, pairs.independent)
    order = sorted(range(len(pairs.labels)), key=lambda i: scores[i], reverse=True)
    best = order[0]
    leader = max(readings, key=lambda reading: reading.leader_key)
    if leader.leader == best:
        weights = leader.leader_weights
    else:  # scores tied after rounding and the sort ranked another pair first
        outputs = forward(loaded, pairs.encoded.rows(range(best, best + 1)), knock_out=knock_out)
        weights = _whole_pair(pairs.encoded, self_attentions(outputs), best, best)
    label_attention = [maps for reading in readings for maps in reading.label_attention]
    id2label = loaded.model.config.id2label
    nli = torch.softmax(logits, dim=-1).tolist()
    axis = pairs.encoded.axis(loaded.tokenizer, best, pairs.encoded.real_positions(best))
    return ZeroShotResult(
        sequence=pairs.text,
        labels=tuple(pairs.labels[i] for i in order),
        scores=tuple(float(scores[i]) for i in order),
        multi_label=pairs.multi_label,
        hypothesis=pairs.hypotheses[best],
        truncated=pairs.encoded.truncated[best],
        attention=AttentionMaps(
            title=f"Attention over premise + '{pairs.hypotheses[best]}'",
            query=axis,
            key=axis,
            weights=weights,
            facts=loaded.facts,
            recipe=_recipe(loaded, pairs, best, knock_out),
        ),
        nli=tuple({id2label[j]: p for j, p in enumerate(nli[i])} for i in order),
        label_attention=tuple(label_attention[i] for i in order),
    )


def _recipe(loaded: LoadedModel, pairs: Pairs, best: int, knock_out: KnockOut) -> Recipe:
    """Every pair's tokens, in the order the labels were given: the winner's score depends on all of them."""
    rows = [pairs.encoded.real_positions(i) for i in range(len(pairs.labels))]
    ids = pairs.encoded.batch["input_ids"].tolist()
    return Recipe(
        task="zero_shot",
        model=loaded.source,
        kind=loaded.kind,
        precision=loaded.precision,
        ids=tuple(tuple(ids[i][p] for p in row) for i, row in enumerate(rows)),
        answer=best,
        labels=pairs.labels,
        type_ids=tuple(pairs.encoded.type_ids(i, row) for i, row in enumerate(rows)),
        options=(("multi_label", pairs.multi_label),),
        knock_out=knock_out,
    )


def _check_room(loaded, hypotheses: Sequence[str], labels: Sequence[str], limit: int) -> None:
    """Each hypothesis must leave room for the premise: the premise is cut to fit, the hypothesis never."""
    specials = loaded.tokenizer.num_special_tokens_to_add(pair=True)
    lengths = loaded.tokenizer(list(hypotheses), add_special_tokens=False, verbose=False)["input_ids"]
    for label, ids in zip(labels, lengths, strict=True):
        if len(ids) + specials >= limit:
            raise InputError(
                f"The hypothesis for the label {echo(label)} is too long: it takes {len(ids)} tokens, and "
                f"each premise + hypothesis pair may have at most {limit}. Use a shorter label or template."
            )


def _leader_keys(logits: torch.Tensor, entailment: int, independent: bool) -> torch.Tensor:
    """Per pair, a number that ranks pairs as `_scores` does, from that pair's logits alone."""
    if independent:
        contradiction = -1 if entailment == 0 else 0
        return logits[:, entailment] - logits[:, contradiction]
    return logits[:, entailment]


def _whole_pair(encoded: Encoded, attentions, item: int, start: int) -> np.ndarray:
    """Pair `item`'s attention over its real tokens; `attentions` hold pairs from `start` on."""
    positions = encoded.real_positions(item)
    return stack_attentions(attentions, item=item - start, query_positions=positions, key_positions=positions)


def _hypothesis_to_premise(loaded, pairs: Pairs, attentions, item: int, start: int) -> AttentionMaps:
    """The block of pair `item`'s attention whose rows are hypothesis tokens and columns premise tokens;
    `attentions` hold the pairs from `start` on."""
    sequence_ids = pairs.encoded.batch.sequence_ids(item)
    premise = [p for p, s in enumerate(sequence_ids) if s == 0]
    hypothesis = [p for p, s in enumerate(sequence_ids) if s == 1]
    return AttentionMaps(
        title=f"'{pairs.labels[item]}': hypothesis tokens → premise tokens",
        query=pairs.encoded.axis(loaded.tokenizer, item, hypothesis),
        key=pairs.encoded.axis(loaded.tokenizer, item, premise),
        weights=stack_attentions(attentions, item=item - start, query_positions=hypothesis, key_positions=premise),
        facts=loaded.facts,
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
