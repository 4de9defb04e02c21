"""Head importance: for the current answer, the change in its probability when each head alone is knocked out.

One copy of the input per head, many copies in a batched pass, each copy with its own head knocked
out (on top of any the run itself ran without). It costs a pass per head, so it first times the plain
pass and declines, with the estimate, when every head would take longer than the lens budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from services import gpu
from services.errors import InputError
from services.lenses import cost, replay
from services.lenses.knockout import attention_modules, heads_per_layer
from services.recipe import KnockOut, Recipe


@dataclass(frozen=True)
class HeadImportance:
    """change: float32 [layers, heads], the answer's `measure` with that head alone knocked out minus `base`,
    its value with every head (but those the run itself ran without)."""

    target: str
    measure: str
    base: float
    change: np.ndarray
    stack: str

    def as_json(self) -> dict[str, object]:
        layers, heads = self.change.shape
        return {
            "target": self.target,
            "measure": self.measure,
            "probability": self.base,
            "layers": layers,
            "heads": heads,
            "change": [[float(v) for v in row] for row in self.change],
        }


@gpu.run(gpu.lens)
def head_importance(recipe: Recipe, *, max_seconds: float, max_bytes: int) -> HeadImportance:
    """Every head of the explorer's stack knocked out alone, in batched passes within the two budgets."""
    loaded = replay.load(recipe)
    layers, heads = len(attention_modules(loaded.model, recipe.stack)), heads_per_layer(loaded.model, recipe.stack)
    every = [(layer, head) for layer in range(1, layers + 1) for head in range(1, heads + 1)]
    already = set(recipe.knock_out.of(recipe.stack))
    (base, _), seconds = cost.timed(lambda: replay.score(recipe, loaded, [recipe.knock_out]))
    cost.check_time(
        seconds * len(every),
        max_seconds,
        what=f"Knocking out each of the {len(every)} heads alone, one pass each,",
        advice="Try a shorter input, or knock out the heads you suspect yourself.",
    )
    rows = cost.rows_per_pass(
        loaded, _tokens(recipe), logits=_logits_per_copy(recipe, loaded), budget_bytes=max_bytes
    ) // replay.rows_per_copy(recipe)
    rows = max(1, rows)
    changes = np.zeros((layers, heads), dtype=np.float32)
    deadline = time.monotonic() + max_seconds
    chunks = [every[start : start + rows] for start in range(0, len(every), rows)]
    for chunk in tqdm(chunks, desc="Knocking out each head alone"):
        if time.monotonic() > deadline:
            raise InputError(f"Head importance stopped after {max_seconds:.0f} s, this Space's budget per lens.")
        knock_outs = [_plus(recipe.knock_out, recipe.stack, head) for head in chunk]
        probabilities, _ = replay.score(recipe, loaded, knock_outs)
        for (layer, head), probability in zip(chunk, probabilities.tolist(), strict=True):
            if (layer, head) not in already:
                changes[layer - 1, head - 1] = probability - float(base[0])
    return HeadImportance(
        target=_target(recipe, loaded),
        measure=replay.measure(recipe),
        base=float(base[0]),
        change=changes,
        stack=recipe.stack,
    )


def _plus(knock_out: KnockOut, stack: str, head: tuple[int, int]) -> KnockOut:
    heads = knock_out.of(stack)
    return knock_out if head in heads else knock_out.with_heads(stack, (*heads, head))


def _tokens(recipe: Recipe) -> int:
    return max(len(ids) for ids in recipe.ids) + len(recipe.target_ids)


def _logits_per_copy(recipe: Recipe, loaded) -> int:
    """Logits one copy's scoring pass returns: a row per written token for text, else the classes."""
    if recipe.task in ("sentiment", "zero_shot"):
        return len(recipe.ids) * loaded.model.config.num_labels
    written = len(recipe.ids[0]) - recipe.answer if recipe.task == "generation" else len(recipe.target_ids)
    return written * int(loaded.model.config.vocab_size)


def _target(recipe: Recipe, loaded) -> str:
    """The answer, in words: the class or label, or the text written."""
    if recipe.task in ("sentiment", "zero_shot"):
        return recipe.labels[recipe.answer]
    ids = recipe.ids[0][recipe.answer :] if recipe.task == "generation" else recipe.target_ids
    return loaded.tokenizer.decode(list(ids), skip_special_tokens=True)
