"""What a lens needs to run a tab's answer again: the model, the exact tokens, and the answer. Plain data.

A lens is asked for after the run, from the explorer's stored run: it must compute on the very model
and inputs that answered, not on a second tokenisation of the text. So every task's service leaves
a `Recipe` on the attention it returns (no tensors, no model: it lives in the run store).
"""

from __future__ import annotations

from dataclasses import dataclass

Heads = tuple[tuple[int, int], ...]  # (layer, head) pairs, counted from 1, as a visitor names them

# The lenses each task's answer offers, besides attention (components/explorer/lenses has them by name).
OFFERED: dict[str, tuple[str, ...]] = {
    "sentiment": ("attribution", "knock_out", "head_importance"),
    "zero_shot": ("attribution", "knock_out", "head_importance"),
    "generation": ("attribution", "knock_out", "head_importance", "logit_lens"),
    "translation": ("attribution", "knock_out", "head_importance"),
}


def offered(task: str, stack: str = "attention") -> tuple[str, ...]:
    """The lenses a task's answer offers beside attention, in an explorer showing `stack`: a translation's
    encoder view has no decoding steps to attribute."""
    encoder_view = task == "translation" and stack == "attention"
    return tuple(name for name in OFFERED[task] if not (encoder_view and name == "attribution"))


@dataclass(frozen=True)
class KnockOut:
    """Heads knocked out of one run: `attention` in the model's self-attention (an encoder-decoder's
    encoder), `cross` in an encoder-decoder's cross-attention (its decoder reading the source)."""

    attention: Heads = ()
    cross: Heads = ()

    def __bool__(self) -> bool:
        return bool(self.attention or self.cross)

    def of(self, stack: str) -> Heads:
        return self.cross if stack == "cross" else self.attention

    def with_heads(self, stack: str, heads: Heads) -> KnockOut:
        """These heads in `stack`, instead of the ones there."""
        return KnockOut(attention=self.attention, cross=heads) if stack == "cross" else KnockOut(heads, self.cross)


NONE = KnockOut()


@dataclass(frozen=True)
class Recipe:
    """How to run one answer again.

    task: the service that answered ("sentiment", "zero_shot", "generation", "translation").
    model, kind, precision: the model cache's key, so a lens loads the very model that answered.
    ids: the token ids of each input the answer read, padding left out: the text; every premise +
      hypothesis pair, in the order the labels were given; the prompt and its continuation; the source.
    type_ids: token type ids, row by row, when the tokenizer gives them (BERT's sentence pairs).
    answer: the class (sentiment); the winning label's row of `ids` (zero-shot); the prompt's length
      (generation); 0 (translation).
    labels: every class name (sentiment); the candidate labels, in `ids` order (zero-shot).
    target_ids: translation only: the decoder's ids, its start token first, then the translation.
    options: what the answer's decoding or scoring took, by name (multi_label; the generation settings;
      num_beams), so a knocked-out run decodes the same way.
    stack: which heads the explorer showing this run names ("attention", or "cross" for a decoder's
      cross-attention); knock_out: the heads this run itself ran without.
    """

    task: str
    model: str
    kind: str
    precision: str
    ids: tuple[tuple[int, ...], ...]
    answer: int
    labels: tuple[str, ...] = ()
    type_ids: tuple[tuple[int, ...], ...] = ()
    target_ids: tuple[int, ...] = ()
    options: tuple[tuple[str, object], ...] = ()
    stack: str = "attention"
    knock_out: KnockOut = NONE

    @property
    def lenses(self) -> tuple[str, ...]:
        return offered(self.task, self.stack)

    def option(self, name: str, default: object = None) -> object:
        return dict(self.options).get(name, default)
