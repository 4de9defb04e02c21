"""Fill-mask: a masked language model guesses the word behind one mask, in one or two sentences.

Shaped like transformers' fill-mask pipeline: `preprocess` puts the tokenizer's own mask token where the
visitor wrote `[MASK]` and tokenises the sentences together, `forward` runs the model once on them,
`postprocess` reads each sentence's mask row (its top-k fills, pipeline's way) and its attention. With
two sentences, `compare` reads both full softmaxes on the union of their top-k words: a word outside
one sentence's top-k still has a probability there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from services import gpu
from services.attention_maps import AttentionMaps, stack_attentions
from services.config import short_name
from services.encoding import Encoded, encode
from services.errors import InputError, ModelLoadError
from services.inputs import echo
from services.mask_inputs import MASK, FillMaskQuery
from services.models import MODELS, LoadedModel, ProgressCallback
from services.tokens import readable_pieces

ORDINALS = ("first", "second")


@dataclass(frozen=True)
class Fill:
    """One candidate for the mask. `token` is the raw piece (`##ing`, `Ġnurse`); `text` reads it."""

    token_id: int
    token: str
    text: str
    score: float
    token_str: str
    sequence: str

    def as_pipeline_output(self) -> dict[str, Any]:
        """Shaped like one item of pipeline("fill-mask")'s output."""
        return {"score": self.score, "token": self.token_id, "token_str": self.token_str, "sequence": self.sequence}


@dataclass(frozen=True)
class MaskPrediction:
    """The fills of one sentence, best first; `mask` is the mask's position among its tokens."""

    text: str
    fills: tuple[Fill, ...]
    mask: int
    truncated: bool
    attention: AttentionMaps


@dataclass(frozen=True)
class Comparison:
    """Each word of the union of both sentences' top-k, with its probability in each sentence (from the full
    softmax at the mask). tokens: raw pieces; texts: as read; first, second: [words]."""

    token_ids: tuple[int, ...]
    tokens: tuple[str, ...]
    texts: tuple[str, ...]
    first: tuple[float, ...]
    second: tuple[float, ...]

    @property
    def difference(self) -> tuple[float, ...]:
        """P(first) − P(second), word by word."""
        return tuple(a - b for a, b in zip(self.first, self.second, strict=True))


@dataclass(frozen=True)
class FillMaskResult:
    predictions: tuple[MaskPrediction, ...]
    comparison: Comparison | None

    def as_pipeline_output(self) -> list[Any]:
        """What pipeline("fill-mask") returns for the sentences as a list: one sentence's fills, or a list of
        fills per sentence."""
        rows = [[fill.as_pipeline_output() for fill in p.fills] for p in self.predictions]
        return rows[0] if len(rows) == 1 else rows


def fill_mask(
    query: FillMaskQuery,
    *,
    model: str,
    precision: str = "fp32",
    max_tokens: int | None = None,
    on_load: ProgressCallback | None = None,
) -> FillMaskResult:
    """The top-k fills of each sentence's mask, their attention, and (for two sentences) the comparison."""
    MODELS.get("masked-lm", model, precision=precision, on_load=on_load)  # here, in the server, with progress
    return compute(query, model=model, precision=precision, max_tokens=max_tokens)


@gpu.run(gpu.one_pass)
def compute(query: FillMaskQuery, *, model: str, precision: str, max_tokens: int | None) -> FillMaskResult:
    """`fill_mask` once its model is loaded: on a GPU when one is lent (services.gpu)."""
    loaded = MODELS.get("masked-lm", model, precision=precision)
    encoded, masks = preprocess(loaded, query, max_tokens=max_tokens)
    outputs = forward(loaded, encoded.batch)
    return postprocess(loaded, query, encoded, masks, outputs)


def preprocess(loaded: LoadedModel, query: FillMaskQuery, *, max_tokens: int | None) -> tuple[Encoded, list[int]]:
    """The sentences with the tokenizer's mask token, tokenised as one batch, and each one's mask position
    (counted in its real tokens). InputError when a mask was cut off by the token limit."""
    mask_token = loaded.tokenizer.mask_token
    if mask_token is None:
        raise ModelLoadError(
            f"The model '{short_name(loaded.source)}' has no mask token, so it cannot fill one: set "
            "PLAYGROUND_FILL_MASK_MODEL to a masked language model such as bert-base-uncased."
        )
    encoded = encode(loaded, [s.with_mask(mask_token) for s in query.sentences], max_tokens=max_tokens)
    masks = []
    for i, ordinal in enumerate(ORDINALS[: len(query.sentences)]):
        ids = [int(encoded.batch["input_ids"][i][p]) for p in encoded.real_positions(i)]
        found = [p for p, token in enumerate(ids) if token == loaded.tokenizer.mask_token_id]
        if not found:
            raise InputError(
                f"The {ordinal} sentence's {MASK} comes after its first {len(ids)} tokens, the most the model reads "
                "here, so it was cut off: move it earlier, or shorten the sentence."
            )
        if len(found) > 1:  # the text also wrote the model's own mask token, spelled another way
            raise InputError(
                f"The {ordinal} sentence has {len(found)} masks once tokenised ({echo(mask_token)} is this model's "
                f"mask token); this lab fills exactly one: keep one {MASK}."
            )
        masks.append(found[0])
    return encoded, masks


def forward(loaded: LoadedModel, inputs: dict[str, Any]) -> Any:
    """The model alone: logits over the vocabulary at every position, and every layer's attention."""
    with torch.inference_mode():
        return loaded.model(**inputs, output_attentions=True)


def postprocess(
    loaded: LoadedModel, query: FillMaskQuery, encoded: Encoded, masks: Sequence[int], outputs: Any
) -> FillMaskResult:
    tokenizer = loaded.tokenizer
    predictions, distributions = [], []
    for i, mask in enumerate(masks):
        positions = encoded.real_positions(i)
        probabilities = outputs.logits[i, positions[mask]].float().softmax(dim=-1).cpu()
        distributions.append(probabilities)
        axis = encoded.axis(tokenizer, i, positions)
        fills = _fills(tokenizer, list(axis.ids), mask, probabilities, query.top_k)
        attention = AttentionMaps(
            title=f"Self-attention of {short_name(loaded.source)}",
            query=axis,
            key=axis,
            weights=stack_attentions(outputs.attentions, item=i, query_positions=positions, key_positions=positions),
            facts=loaded.facts,
            focus=mask,
        )
        text = query.sentences[i].text
        predictions.append(MaskPrediction(text, fills, mask, encoded.truncated[i], attention))
    comparison = compare(tokenizer, predictions, distributions) if query.compared else None
    return FillMaskResult(predictions=tuple(predictions), comparison=comparison)


def _fills(tokenizer: Any, ids: list[int], mask: int, probabilities: torch.Tensor, top_k: int) -> tuple[Fill, ...]:
    """The `top_k` likeliest fills, as the pipeline writes them: the sentence decoded without special tokens."""
    values, candidates = probabilities.topk(min(top_k, probabilities.shape[-1]))
    candidates = [int(c) for c in candidates.tolist()]
    tokens = tokenizer.convert_ids_to_tokens(candidates)
    texts = _distinct(tokens, readable_pieces(tokenizer, tokens))
    fills = []
    for score, candidate, token, text in zip(values.tolist(), candidates, tokens, texts, strict=True):
        filled = [*ids[:mask], candidate, *ids[mask + 1 :]]
        sequence = tokenizer.decode(filled, skip_special_tokens=True)
        fills.append(Fill(candidate, token, text, float(score), tokenizer.decode([candidate]), sequence))
    return tuple(fills)


def compare(tokenizer: Any, predictions: Sequence[MaskPrediction], distributions: Sequence[torch.Tensor]) -> Comparison:
    """Both sentences' probabilities of every word in the union of their top-k, first sentence's words first."""
    ids = list(dict.fromkeys(fill.token_id for p in predictions for fill in p.fills))
    tokens = tokenizer.convert_ids_to_tokens(ids)
    first, second = ([float(d[i]) for i in ids] for d in distributions)
    texts = _distinct(tokens, readable_pieces(tokenizer, tokens))
    return Comparison(tuple(ids), tuple(tokens), texts, tuple(first), tuple(second))


def _distinct(tokens: Sequence[str], texts: Sequence[str]) -> tuple[str, ...]:
    """Readable texts, except where two pieces read alike (`s` and `##s`): those show their raw pieces, so
    every label names one token."""
    seen: dict[str, int] = {}
    for text in texts:
        seen[text] = seen.get(text, 0) + 1
    return tuple(token if seen[text] > 1 else text for token, text in zip(tokens, texts, strict=True))
