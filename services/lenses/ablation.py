"""Does this head matter for this answer? The answer with heads knocked out, beside the original.

The original is the model with every head. For a classifier one batched pass reads both (and the
knocked-out attention); text is written again with the heads knocked out, decoded as the run was
(its sampling settings and seed, or its beams). The change is in the original answer's probability
(see `replay.measure`), read teacher-forced with and without the heads.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import torch
from transformers import TextIteratorStreamer, set_seed

from services import generation, gpu, translation
from services.attention_maps import AttentionMaps, self_attentions, stack_attentions
from services.inputs import GenerationOptions, heads_text
from services.lenses import replay
from services.models import LoadedModel
from services.recipe import NONE, KnockOut, Recipe
from services.run_guard import current
from services.sentiment import _probabilities
from services.tokens import token_axis
from services.zero_shot import _label_id, _scores


@dataclass(frozen=True)
class Ablation:
    """The original answer (every head) and the answer with `knock_out`'s heads knocked out.

    before/after: `measure` of the original answer, with every head and with the heads knocked out.
    classes, before_each, after_each: a classifier's every class (or label) and its probability (score)
    both ways. attention: the knocked-out run, as the explorer showing `stack` draws it (its heads are zero).
    """

    knock_out: KnockOut
    stack: str
    measure: str
    original: str
    knocked_out: str
    before: float
    after: float
    attention: AttentionMaps
    classes: tuple[str, ...] = ()
    before_each: tuple[float, ...] = ()
    after_each: tuple[float, ...] = ()

    @property
    def change(self) -> float:
        return self.after - self.before

    def as_json(self) -> dict[str, object]:
        other = "cross" if self.stack == "attention" else "attention"
        names = {"attention": "self_attention", "cross": "cross_attention"}
        data: dict[str, object] = {
            "heads": [f"{layer}.{head}" for layer, head in self.knock_out.of(self.stack)],
            "original": {"answer": self.original, "probability": self.before},
            "knocked_out": {"answer": self.knocked_out, "probability_of_original": self.after},
            "change": self.change,
            "measure": self.measure,
        }
        if self.knock_out.of(other):  # a translation's other attention, knocked out in the same run
            data["also_knocked_out"] = {names[other]: [f"{layer}.{head}" for layer, head in self.knock_out.of(other)]}
        return data


def _seconds(recipe: Recipe, *args, **kwargs) -> float:
    """A classifier answers in one pass; generation and translation write again, within their limit."""
    return gpu.one_pass() if recipe.task in ("sentiment", "zero_shot") else gpu.decoding()


@gpu.run(_seconds)
def compare(recipe: Recipe, knock_out: KnockOut, *, run: AttentionMaps | None = None) -> Ablation:
    """The answer of `recipe`'s model with every head, and with `knock_out`'s heads knocked out.

    `run`: the recipe's own attention; drawn as the knocked-out run when the run itself had these heads out.
    """
    loaded = replay.load(recipe)
    title = (
        f"{run.title if run is not None else 'Attention'}, heads {heads_text(knock_out.of(recipe.stack))} knocked out"
    )
    if recipe.task in ("sentiment", "zero_shot"):
        return _classifier(recipe, loaded, knock_out, title)
    return _writer(recipe, loaded, knock_out, run, title)


def _classifier(recipe: Recipe, loaded: LoadedModel, knock_out: KnockOut, title: str) -> Ablation:
    """One pass of two copies, every head and knocked out: every class's probability both ways."""
    _, outputs = replay.score(recipe, loaded, [NONE, knock_out], attentions=True)
    each = _every_class(recipe, loaded, outputs.logits)
    classes = recipe.labels
    original, knocked = int(each[0].argmax()), int(each[1].argmax())
    return Ablation(
        knock_out=knock_out,
        stack=recipe.stack,
        measure=replay.measure(dataclasses.replace(recipe, answer=original)),
        original=classes[original],
        knocked_out=classes[knocked],
        before=float(each[0, original]),
        after=float(each[1, original]),
        attention=_classifier_maps(recipe, loaded, outputs, knock_out, title),
        classes=classes,
        before_each=tuple(each[0].tolist()),
        after_each=tuple(each[1].tolist()),
    )


def _every_class(recipe: Recipe, loaded: LoadedModel, logits: torch.Tensor) -> torch.Tensor:
    """[copies, classes]: every class's probability (sentiment) or every label's score (zero-shot)."""
    logits = logits.float().cpu()
    if recipe.task == "sentiment":
        return _probabilities(logits, loaded.model.config)
    entailment = _label_id(loaded.model.config, "entail")
    independent = bool(recipe.option("multi_label")) or len(recipe.labels) == 1
    per_copy = logits.reshape(-1, len(recipe.ids), logits.shape[-1])
    return torch.tensor([_scores(copy, entailment, independent) for copy in per_copy])


def _classifier_maps(recipe: Recipe, loaded: LoadedModel, outputs, knock_out: KnockOut, title: str) -> AttentionMaps:
    """The knocked-out copy's attention over the answer's own input (zero-shot: the run's winning pair)."""
    pair = recipe.answer if recipe.task == "zero_shot" else 0
    ids = recipe.ids[pair]
    axis = token_axis(loaded.tokenizer, ids)
    row = replay.rows_per_copy(recipe) + pair  # copy 1 (knocked out), that input
    attentions = self_attentions(outputs)
    width = attentions[0].shape[-1]
    start = width - len(ids) if loaded.tokenizer.padding_side == "left" else 0
    positions = range(start, start + len(ids))
    weights = stack_attentions(attentions, item=row, query_positions=positions, key_positions=positions)
    return AttentionMaps(
        title=title,
        query=axis,
        key=axis,
        weights=weights,
        facts=loaded.facts,
        recipe=dataclasses.replace(recipe, knock_out=knock_out),
    )


def _writer(
    recipe: Recipe, loaded: LoadedModel, knock_out: KnockOut, run: AttentionMaps | None, title: str
) -> Ablation:
    """Text written again: the original without the run's knock-out, the new one with `knock_out`."""
    original = recipe if not recipe.knock_out else _write(recipe, loaded, NONE).recipe
    written = _write(recipe, loaded, knock_out) if knock_out != recipe.knock_out or run is None else run
    probabilities, _ = replay.score(original, loaded, [NONE, knock_out])
    return Ablation(
        knock_out=knock_out,
        stack=recipe.stack,
        measure=replay.measure(recipe),
        original=_text(original, loaded),
        knocked_out=_text(written.recipe, loaded),
        before=float(probabilities[0]),
        after=float(probabilities[1]),
        attention=dataclasses.replace(written, title=title),
    )


def _write(recipe: Recipe, loaded: LoadedModel, knock_out: KnockOut) -> AttentionMaps:
    """The recipe's text written again by its tab's own service code, with `knock_out`; the attention the
    explorer showing this recipe draws (a translation's cross- or encoder attention)."""
    if recipe.task == "generation":
        prompt = replay.encoded(loaded, [recipe.ids[0][: recipe.answer]])
        options = GenerationOptions(**dict(recipe.options))
        written = generation.Generated()
        streamer = TextIteratorStreamer(loaded.tokenizer, skip_prompt=True)  # nobody reads it: its queue grows
        set_seed(options.seed)
        generation.forward(
            loaded, prompt, options, streamer, written, stop=threading.Event(), guard=current(), knock_out=knock_out
        )
        if written.error is not None:
            raise written.error
        sequence = generation.postprocess(loaded, "", prompt, written, options=options, knock_out=knock_out)
        return sequence.attention
    source = replay.encoded(loaded, recipe.ids)
    options = {"num_beams": int(recipe.option("num_beams", 1)), "max_new_tokens": int(recipe.option("max_new_tokens"))}
    translated = translation.forward(loaded, source, knock_out=knock_out, **options)
    again = dataclasses.replace(recipe, target_ids=tuple(translated.produced.tolist()), knock_out=knock_out)
    result = translation.postprocess(
        loaded, "", "", source, translated, recipe=dataclasses.replace(again, stack="attention")
    )
    return result.cross_attention if recipe.stack == "cross" else result.encoder_attention


def _text(recipe: Recipe, loaded: LoadedModel) -> str:
    """What the model wrote: the continuation, or the translation."""
    ids = recipe.ids[0][recipe.answer :] if recipe.task == "generation" else recipe.target_ids
    return loaded.tokenizer.decode(list(ids), skip_special_tokens=True)
