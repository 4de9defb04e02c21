"""Fast mode: int8 dynamic quantization and bf16 against fp32, on the same weights.

For DistilBERT sentiment and BART zero-shot: latency / fp32 latency of the app's forward pass
(eager, with attentions), top-label agreement with fp32 over the fixed sentences, and whether
the attentions still come back as rows that sum to 1. With random weights the classes' logits
are nearly tied, so a small numeric change flips a label far more often than with trained
weights: agreement here is a pessimistic bound. The real all-MiniLM-L6-v2 weights give a
real-weights check: the cosine similarity of its sentence embeddings to fp32's.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from transformers import AutoModel

from bench import vocab
from bench.context import Context
from bench.corpus import LABELS, SENTENCES, SHORT_TEXT
from bench.measure_overhead import forward
from bench.result import RATIO, Measurement, Target
from bench.timing import median_ms, paired, summarize
from services.attention_maps import self_attentions, stack_attentions
from services.inputs import DEFAULT_TEMPLATE
from services.precision import convert, resolve

PRECISIONS = ("int8", "bf16")
ROW_TOLERANCE = {"int8": 1e-3, "bf16": 2e-2}  # bf16 keeps 8 bits of mantissa per weight
BATCH = 10


def fast_copy(model: Any, precision: str) -> Any:
    """The app's own conversion, on a copy: it changes a bf16 model in place, and fp32 is the reference."""
    return convert(copy.deepcopy(model), precision)


def batches(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def sentiment_labels(model: Any, tokenizer: Any, sentences: Sequence[str]) -> list[int]:
    labels: list[int] = []
    for chunk in batches(sentences, BATCH):
        logits = forward(model, dict(tokenizer(chunk, padding=True, return_tensors="pt")), attentions=False).logits
        labels += logits.float().argmax(dim=-1).tolist()
    return labels


def nli_inputs(tokenizer: Any, sentences: str | Sequence[str]) -> dict[str, torch.Tensor]:
    """The zero-shot service's batch: each sentence paired with each label's hypothesis."""
    sentences = [sentences] if isinstance(sentences, str) else list(sentences)
    premises = [sentence for sentence in sentences for _ in LABELS]
    hypotheses = [DEFAULT_TEMPLATE.format(label) for _ in sentences for label in LABELS]
    return dict(tokenizer(premises, hypotheses, padding=True, return_tensors="pt"))


def zero_shot_labels(model: Any, tokenizer: Any, sentences: Sequence[str]) -> list[int]:
    """The winning label of each sentence: the highest entailment logit among its pairs."""
    entailment = model.config.label2id["entailment"]
    labels: list[int] = []
    for chunk in batches(sentences, BATCH // 2):
        logits = forward(model, nli_inputs(tokenizer, chunk), attentions=False).logits.float()
        labels += logits[:, entailment].reshape(len(chunk), len(LABELS)).argmax(dim=-1).tolist()
    return labels


def attention_rows_sum_to_one(model: Any, inputs: dict[str, torch.Tensor], tolerance: float) -> bool:
    """The app's extraction on this model: attentions present, and every real row sums to 1."""
    weights = stack_attentions(self_attentions(forward(model, inputs, attentions=True)))
    real = inputs["attention_mask"][0].bool().numpy()
    sums = weights[:, :, real][..., real].sum(axis=-1)
    return bool(np.all(np.abs(sums - 1) <= tolerance))


def compare(ctx: Context, key: str, label: str, inputs: dict, labels_of: Any, sentences: Sequence[str]) -> list:
    loaded = ctx.store.get(key)
    fp32 = loaded.model
    reference = labels_of(fp32, loaded.tokenizer, sentences)
    rows = []
    for precision in PRECISIONS:
        fast = fast_copy(fp32, precision)
        timed = paired(
            lambda fast=fast: forward(fast, inputs, attentions=True),
            lambda: forward(fp32, inputs, attentions=True),
            repeats=ctx.repeats,
            min_seconds=ctx.min_seconds,
        )
        agree = np.mean(np.array(labels_of(fast, loaded.tokenizer, sentences)) == np.array(reference))
        rows_ok = attention_rows_sum_to_one(fast, inputs, ROW_TOLERANCE[precision])
        note = "Attentions returned, rows sum to 1." if rows_ok else "Attention extraction BROKE: rows do not sum to 1."
        note += (
            " Only the Linear layers change precision under int8; the eager attention kept for the heatmaps,"
            " the embeddings and the normalisations stay fp32 and bound the speed-up."
            if precision == "int8"
            else " bf16 halves the weights' memory traffic, but on this CPU its matrix products gain less than int8's."
        )
        details = {"fast_ms": median_ms(timed.a), "fp32_ms": median_ms(timed.b), "attention_rows_ok": rows_ok}
        rows.append(
            Measurement(
                f"fast {precision}: {label} latency / fp32",
                RATIO,
                tuple(timed.ratios()),
                Target("<=", 0.35),
                note=note,
                details=details,
            )
        )
        rows.append(
            Measurement(
                f"fast {precision}: {label} top-label agreement with fp32 ({len(sentences)} sentences)",
                "%",
                (float(agree) * 100,),
                Target(">=", 99.0),
                note="Random weights: near-tied logits make this a pessimistic bound.",
            )
        )
        del fast
    return rows


def minilm_cosine(ctx: Context) -> list[Measurement]:
    """Real weights: cosine similarity of mean-pooled all-MiniLM-L6-v2 embeddings, fast vs fp32."""
    tokenizer = vocab.wordpiece("bert")
    model = AutoModel.from_pretrained(vocab.minilm_dir(), attn_implementation="eager").eval()
    sentences = list(SENTENCES)

    def embed(m: Any) -> torch.Tensor:
        inputs = dict(tokenizer(sentences, padding=True, return_tensors="pt"))
        hidden = forward(m, inputs, attentions=False).last_hidden_state.float()
        mask = inputs["attention_mask"].unsqueeze(-1).float()
        return (hidden * mask).sum(1) / mask.sum(1)

    reference = embed(model)
    rows = []
    for precision in PRECISIONS:
        cosine = torch.nn.functional.cosine_similarity(embed(fast_copy(model, precision)), reference, dim=-1)
        rows.append(
            Measurement(
                f"fast {precision}: real MiniLM embedding cosine to fp32 (per sentence, {len(sentences)})",
                "cosine",
                tuple(float(c) for c in cosine),
                note="Real weights; informational. Values are sentences, not repeats.",
            )
        )
    return rows


def fast_mode(ctx: Context) -> list[Measurement]:
    bart = ctx.store.tokenizer("bart")
    distil = ctx.store.tokenizer("distilbert")
    rows = compare(
        ctx,
        "distilbert",
        "DistilBERT sentiment",
        dict(distil(SHORT_TEXT, return_tensors="pt")),
        sentiment_labels,
        SENTENCES,
    )
    rows += compare(
        ctx,
        "bart",
        "BART zero-shot (3 labels)",
        nli_inputs(bart, SHORT_TEXT),
        zero_shot_labels,
        SENTENCES[: ctx.pick(20, len(SENTENCES))],
    )
    rows += minilm_cosine(ctx)
    return _with_winners(rows)


def _with_winners(rows: list[Measurement]) -> list[Measurement]:
    """Add to each latency row which precision wins for that model: the fastest that kept ≥ 99% agreement."""
    out = []
    for row in rows:
        if "latency" in row.name:
            model = row.name.split(": ", 1)[1].rsplit(" latency", 1)[0]
            out.append(dataclasses.replace(row, note=f"{row.note} {_winner(rows, model)}".strip()))
        else:
            out.append(row)
    return out


def _winner(rows: list[Measurement], model: str) -> str:
    candidates = []
    for precision in PRECISIONS:
        latency = next(r for r in rows if r.name == f"fast {precision}: {model} latency / fp32")
        agreement = next(r for r in rows if r.name.startswith(f"fast {precision}: {model} top-label agreement"))
        candidates.append((summarize(latency.values).median, agreement.median or 0, precision))
    kept = [c for c in candidates if c[1] >= 99.0] or candidates
    best = min(kept)
    return (
        f"Winner for {model}: {best[2]} ({best[0]:.2f}× fp32 latency, {best[1]:.0f}% agreement); "
        f"the app's fast mode (auto) picks {resolve('auto')} on this CPU."
    )
