"""The fill-mask lab's values, parsed once: one or two sentences with exactly one mask each, and top_k.

Torch-free, like services.inputs (whose helpers it uses). A visitor writes `[MASK]` whatever the model:
BERT's own spelling, `[MASK]`, and RoBERTa's, `<mask>`, in any case, all mark the mask; the service puts
the tokenizer's own mask token in its place, so one preset works for every masked language model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.errors import InputError
from services.inputs import blank, clean_text, whole_number

MASK = "[MASK]"
# The spellings a visitor may use for the mask, whatever the model's own mask token is.
MASK_SPELLINGS = re.compile(r"\[mask\]|<mask>", re.IGNORECASE)
DEFAULT_TOP_K = 5  # pipeline("fill-mask")'s default


@dataclass(frozen=True)
class Masked:
    """A sentence cut at its one mask: the text before it and the text after it."""

    before: str
    after: str

    def with_mask(self, mask_token: str) -> str:
        """The sentence with `mask_token` (the tokenizer's own, e.g. `<mask>`) where the mask was."""
        return f"{self.before}{mask_token}{self.after}"

    @property
    def text(self) -> str:
        """The sentence as the page shows it, with `[MASK]`."""
        return self.with_mask(MASK)


@dataclass(frozen=True)
class FillMaskQuery:
    """What the lab runs: the sentences (the second, when given, is compared with the first) and top_k."""

    sentences: tuple[Masked, ...]
    top_k: int = DEFAULT_TOP_K

    @property
    def compared(self) -> bool:
        return len(self.sentences) == 2


def masked(text: object, *, what: str, max_chars: int) -> Masked:
    """`text` cleaned (services.inputs.clean_text) and cut at its one mask; InputError names the sentence
    and says what to do when it has no mask or more than one."""
    text = clean_text(text, what=what, max_chars=max_chars)
    parts = MASK_SPELLINGS.split(text)
    if len(parts) == 1:
        raise InputError(
            f"The {what} has no {MASK}: write {MASK} where the model should guess a word, "
            f"e.g. 'This man works as a {MASK}.'"
        )
    if len(parts) > 2:
        raise InputError(
            f"The {what} has {len(parts) - 1} masks; this lab fills exactly one. Keep one {MASK} and write "
            "the other words out."
        )
    return Masked(before=parts[0], after=parts[1])


def top_k_of(value: object, *, max_top_k: int) -> int:
    """How many fills to list per sentence, from 1 to `max_top_k`; blank means pipeline's default, 5."""
    if blank(value):
        return DEFAULT_TOP_K
    number = whole_number(value, "top_k")
    if not 1 <= number <= max_top_k:
        raise InputError(f"top_k must be from 1 to {max_top_k}, not {number}.")
    return number


def fill_mask_query(text: object, text_b: object, top_k: object, *, max_chars: int, max_top_k: int) -> FillMaskQuery:
    """The lab's controls as sent, parsed and checked; a blank second sentence means no comparison."""
    first = masked(text, what="first sentence", max_chars=max_chars)
    second = None if blank(text_b) else masked(text_b, what="second sentence", max_chars=max_chars)
    return FillMaskQuery(
        sentences=(first,) if second is None else (first, second), top_k=top_k_of(top_k, max_top_k=max_top_k)
    )
