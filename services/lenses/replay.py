"""A run's recipe as model inputs again, and the probability the model gives its answer.

"The answer's probability" is what each tab shows: the class's probability (sentiment), the winning
label's score (zero-shot, over every label's pair, as the tab scores them), and for text the model
writes, the mean probability of each token it wrote, read teacher-forced in one pass (generation,
translation). Any heads can be knocked out of each copy of the inputs, so one batched pass scores
many knock-outs (head importance runs every head this way).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from services.encoding import Encoded
from services.lenses.knockout import knocked_out
from services.models import MODELS, LoadedModel, ProgressCallback
from services.recipe import KnockOut, Recipe
from services.sentiment import _probabilities
from services.zero_shot import _label_id, _scores


def load(recipe: Recipe, on_load: ProgressCallback | None = None) -> LoadedModel:
    """The very model that answered (it may have been unloaded since: then it loads again)."""
    return MODELS.get(recipe.kind, recipe.model, precision=recipe.precision, on_load=on_load)


def encoded(loaded: LoadedModel, rows: Sequence[Sequence[int]], type_ids: Sequence[Sequence[int]] = ()) -> Encoded:
    """Rows of token ids (no padding) as one batch on the model's device, padded the tokenizer's way."""
    features: dict[str, Any] = {"input_ids": [list(row) for row in rows]}
    if type_ids and all(type_ids):
        features["token_type_ids"] = [list(row) for row in type_ids]
    batch = loaded.tokenizer.pad(features, return_tensors="pt").to(loaded.device)
    return Encoded(batch=batch, truncated=(False,) * len(rows))


def rows_per_copy(recipe: Recipe) -> int:
    """Inputs one reading of the answer takes: every label's pair for zero-shot, else one."""
    return len(recipe.ids)


def scoring_inputs(recipe: Recipe, loaded: LoadedModel, copies: int) -> dict[str, Any]:
    """Teacher-forced inputs that read the answer, repeated `copies` times (copy-major: copy c is rows
    c * rows_per_copy … ). Generation reads its text but the last token; translation its source, and
    its target but the last token."""
    if recipe.task == "generation":
        ids = torch.tensor([recipe.ids[0][:-1]], device=loaded.device)
        prompt = recipe.answer
        # Only the logits that read the written tokens: a vocabulary row per position is large.
        return {"input_ids": ids.repeat(copies, 1), "logits_to_keep": ids.shape[-1] - prompt + 1}
    batch = dict(encoded(loaded, recipe.ids, recipe.type_ids).batch)
    if recipe.task == "translation":
        batch["decoder_input_ids"] = torch.tensor([recipe.target_ids[:-1]], device=loaded.device)
    return {key: value.repeat(copies, 1) for key, value in batch.items()}


def answer_probabilities(recipe: Recipe, loaded: LoadedModel, logits: torch.Tensor, copies: int) -> torch.Tensor:
    """[copies]: the probability of the recipe's answer in each copy. logits: the scoring pass's, [rows, …]."""
    logits = logits.float()
    if recipe.task == "sentiment":
        return _probabilities(logits.cpu(), loaded.model.config)[:, recipe.answer]
    if recipe.task == "zero_shot":
        entailment = _label_id(loaded.model.config, "entail")
        independent = bool(recipe.option("multi_label")) or len(recipe.labels) == 1
        per_copy = logits.cpu().reshape(copies, len(recipe.ids), -1)
        return torch.tensor([_scores(copy, entailment, independent)[recipe.answer] for copy in per_copy])
    written = _written(recipe)
    chosen = torch.tensor(written, device=logits.device)
    probabilities = torch.softmax(logits[:, -len(written) :], dim=-1)
    return probabilities.gather(-1, chosen.expand(copies, -1).unsqueeze(-1)).squeeze(-1).mean(dim=-1).cpu()


def score(
    recipe: Recipe, loaded: LoadedModel, knock_outs: Sequence[KnockOut], *, attentions: bool = False
) -> tuple[torch.Tensor, Any]:
    """The answer's probability [len(knock_outs)] with each knock-out (one batched pass), and the outputs."""
    copies, rows = len(knock_outs), rows_per_copy(recipe)
    inputs = scoring_inputs(recipe, loaded, copies)
    per_row = [knock_out for knock_out in knock_outs for _ in range(rows)]
    with torch.no_grad(), knocked_out(loaded.model, *per_row):
        outputs = loaded.model(**inputs, output_attentions=attentions)
    return answer_probabilities(recipe, loaded, outputs.logits, copies), outputs


def measure(recipe: Recipe) -> str:
    """What `answer_probabilities` measures, in words."""
    if recipe.task == "sentiment":
        return f"the probability of {recipe.labels[recipe.answer]}"
    if recipe.task == "zero_shot":
        return f"the score of '{recipe.labels[recipe.answer]}'"
    return "the mean probability of each token of the " + ("text" if recipe.task == "generation" else "translation")


def _written(recipe: Recipe) -> list[int]:
    """The tokens the model wrote: the continuation, or the translation after the decoder's start token."""
    if recipe.task == "generation":
        return list(recipe.ids[0][recipe.answer :])
    return list(recipe.target_ids[1:])
