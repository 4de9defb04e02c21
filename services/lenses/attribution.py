"""Attribution: which input tokens moved the answer, by captum on the embeddings the model actually reads.

Classifiers: Integrated Gradients (captum's `LayerIntegratedGradients`, 32 steps, its default
Gauss-Legendre method) of the answer's logit (zero-shot: the entailment logit of the winning label's
pair) from a baseline that keeps the special tokens and puts the pad token (else unk) in place of every
other. Generation and translation: gradient × input (captum's `LayerGradientXActivation`) of each
written token's logit, at the step that chose it, for every earlier token (a translation's source and
its earlier target tokens). A token's score sums its embedding's hidden dimension.

An encoder-decoder reads token embeddings twice, through two embedding modules sharing one matrix
(BART's `get_input_embeddings()` is a third, never called): both are attributed, and a token's score
adds what it moved through each (BART's classifier feeds its decoder the input shifted right by one).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import LayerGradientXActivation, LayerIntegratedGradients
from tqdm.auto import tqdm

from services import gpu
from services.errors import InputError
from services.lenses import cost, replay
from services.lenses.knockout import knocked_out
from services.models import LoadedModel
from services.precision import resolve
from services.recipe import Recipe
from services.tokens import TokenAxis, readable_tokens, token_axis
from services.zero_shot import _label_id

STEPS = 32  # Integrated Gradients' steps from the baseline to the input


@dataclass(frozen=True)
class Attribution:
    """scores: float32 [rows, tokens]: one row for a classifier's answer, one per written token otherwise.

    axis: the input tokens (the columns). targets: the written tokens (the rows), () for a classifier;
    target_texts: the same as a person reads them. delta: Integrated Gradients' convergence delta,
    sum(scores) − (f(input) − f(baseline)).
    """

    method: str
    axis: TokenAxis
    scores: np.ndarray
    target: str | None = None
    targets: tuple[str, ...] = ()
    delta: float | None = None
    target_texts: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        tokens = list(self.axis.tokens)
        if self.method == "integrated_gradients":
            scores = [float(v) for v in self.scores[0]]
            return {
                "method": self.method,
                "target": self.target,
                "tokens": tokens,
                "scores": scores,
                "delta": self.delta,
            }
        rows = [[float(v) for v in row] for row in self.scores]
        return {"method": self.method, "tokens": tokens, "targets": list(self.targets), "scores": rows}


@gpu.run(gpu.lens)
def attribute(recipe: Recipe, *, max_seconds: float, max_bytes: int) -> Attribution:
    if resolve(recipe.precision) == "int8":
        raise InputError(
            "Attribution needs gradients, and fast mode's int8 weights have none: turn fast mode off and run again."
        )
    loaded = replay.load(recipe)
    with knocked_out(loaded.model, recipe.knock_out):  # the run as it ran, heads it knocked out included
        if recipe.task in ("sentiment", "zero_shot"):
            return integrated_gradients(recipe, loaded, max_seconds=max_seconds, max_bytes=max_bytes)
        return gradient_x_input(recipe, loaded, max_seconds=max_seconds, max_bytes=max_bytes)


def embedding_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The token-embedding modules the forward pass calls: the encoder's and decoder's in an encoder-decoder."""
    if getattr(model.config, "is_encoder_decoder", False):
        return [model.get_encoder().embed_tokens, model.get_decoder().embed_tokens]
    return [model.get_input_embeddings()]


def integrated_gradients(recipe: Recipe, loaded: LoadedModel, *, max_seconds: float, max_bytes: int) -> Attribution:
    model = loaded.model
    pair = recipe.answer if recipe.task == "zero_shot" else 0
    target = _label_id(model.config, "entail") if recipe.task == "zero_shot" else recipe.answer
    batch = replay.encoded(loaded, [recipe.ids[pair]], recipe.type_ids[pair : pair + 1]).batch
    names = [name for name in batch if name != "input_ids"]
    others = tuple(batch[name] for name in names)

    def logits(input_ids: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        return model(input_ids=input_ids, **dict(zip(names, rest, strict=True))).logits

    axis = token_axis(loaded.tokenizer, recipe.ids[pair])
    ids = batch["input_ids"]
    with torch.no_grad():
        _, seconds = cost.timed(lambda: logits(ids, *others))
    cost.check_time(
        seconds * STEPS * 3, max_seconds, what=f"Integrated Gradients ({STEPS} steps)", advice="Try a shorter text."
    )
    layers = embedding_layers(model)
    with warnings.catch_warnings():  # captum warns of several layers; an encoder's and decoder's do not feed each other
        warnings.simplefilter("ignore", UserWarning)
        ig = LayerIntegratedGradients(logits, layers if len(layers) > 1 else layers[0])
    attributions, delta = ig.attribute(
        ids,
        baselines=_baseline(loaded, ids, axis),
        target=target,
        additional_forward_args=others,
        n_steps=STEPS,
        internal_batch_size=cost.rows_per_pass(loaded, ids.shape[-1], logits=8, budget_bytes=max_bytes, grad=True),
        return_convergence_delta=True,
    )
    return Attribution(
        method="integrated_gradients",
        axis=axis,
        scores=_token_scores(attributions if len(layers) > 1 else [attributions], shifted=True)[None, :],
        target=recipe.labels[recipe.answer],
        delta=float(delta.item()),
    )


def _baseline(loaded: LoadedModel, ids: torch.Tensor, axis: TokenAxis) -> torch.Tensor:
    """The same ids with every token but the special ones replaced by the pad token (the unk token if none)."""
    tokenizer = loaded.tokenizer
    filler = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.unk_token_id
    plain = torch.tensor([not special for special in axis.special], device=ids.device)
    return torch.where(plain, torch.full_like(ids, filler), ids)


def _token_scores(per_layer: Sequence[torch.Tensor], *, shifted: bool) -> np.ndarray:
    """[tokens]: each position's attribution summed over the hidden dimension; a decoder's position j+1
    reads input token j (`shifted`), so its score joins token j's."""
    scores = per_layer[0].sum(dim=-1)[0].detach().float().cpu()
    if len(per_layer) > 1 and shifted:
        scores[:-1] += per_layer[1].sum(dim=-1)[0, 1:].detach().float().cpu()
    return scores.numpy().astype(np.float32)


def gradient_x_input(recipe: Recipe, loaded: LoadedModel, *, max_seconds: float, max_bytes: int) -> Attribution:
    """Each written token's logit, at the step that chose it, against every input embedding (one row per token)."""
    model, device = loaded.model, loaded.device
    written, inputs, axis = _writer_inputs(recipe, loaded)
    steps = len(written)

    def logits(*tensors: torch.Tensor) -> torch.Tensor:
        *ids, step = tensors
        return _step_logits(model, recipe, ids)[torch.arange(step.shape[0]), step]

    with torch.no_grad():
        _, seconds = cost.timed(lambda: _step_logits(model, recipe, inputs))
    cost.check_time(
        seconds * steps * 3,
        max_seconds,
        what=f"Gradient × input for {steps} written tokens (a backward pass each)",
        advice="Write fewer tokens, or shorten the input.",
    )
    per_pass = cost.rows_per_pass(
        loaded,
        sum(t.shape[-1] for t in inputs),
        logits=steps * model.config.vocab_size,
        budget_bytes=max_bytes,
        grad=True,
    )
    method = LayerGradientXActivation(logits, embedding_layers(model))
    rows = []
    for start in tqdm(range(0, steps, per_pass), desc="Gradient × input, written token by token"):
        chunk = torch.arange(start, min(start + per_pass, steps), device=device)
        copies = tuple(t.expand(len(chunk), -1) for t in inputs)
        per_layer = method.attribute(copies, target=written[chunk].tolist(), additional_forward_args=(chunk,))
        rows.append(torch.cat([layer.sum(dim=-1).detach().float().cpu() for layer in per_layer], dim=-1))
    targets = tuple(loaded.tokenizer.convert_ids_to_tokens(written.tolist()))
    return Attribution(
        method="gradient_x_input",
        axis=axis,
        scores=torch.cat(rows).numpy().astype(np.float32),
        targets=targets,
        target_texts=readable_tokens(loaded.tokenizer, targets),
    )


def _writer_inputs(recipe: Recipe, loaded: LoadedModel):
    """The written tokens [steps]; the model's token inputs (generation: the text but its last token;
    translation: the source, and the target but its last token); the input tokens' axis."""
    device = loaded.device
    if recipe.task == "generation":
        ids = recipe.ids[0]
        written = torch.tensor(ids[recipe.answer :], device=device)
        return written, (torch.tensor([ids[:-1]], device=device),), token_axis(loaded.tokenizer, ids[:-1])
    source, target = recipe.ids[0], recipe.target_ids
    written = torch.tensor(target[1:], device=device)
    inputs = (torch.tensor([source], device=device), torch.tensor([target[:-1]], device=device))
    return written, inputs, token_axis(loaded.tokenizer, [*source, *target[:-1]])


def _step_logits(model: torch.nn.Module, recipe: Recipe, ids: Sequence[torch.Tensor]) -> torch.Tensor:
    """[copies, steps, vocab]: the logits of the query positions that chose each written token."""
    if recipe.task == "generation":
        return model(input_ids=ids[0], logits_to_keep=len(recipe.ids[0]) - recipe.answer).logits
    return model(input_ids=ids[0], decoder_input_ids=ids[1]).logits
