"""Fixed English inputs: the same sentences in every run, so runs compare.

`SENTENCES` (100 short verdicts, half glad, half not) is the agreement set of the fast modes;
`text_of_tokens` cuts testkit's corpus, which the stand-in Marian tokenizer is trained on, to a length.
"""

from __future__ import annotations

from typing import Any

from testkit.tokenizers import CORPUS

SUBJECTS = (
    "The film",
    "Our hotel room",
    "The new phone",
    "This little cafe",
    "The lecture",
    "The train ride",
    "Her latest novel",
    "The concert",
    "The museum tour",
    "This recipe",
)
VERDICTS = (
    "was a delight from start to finish",
    "was slow, noisy and far too long",
    "made the whole family smile",
    "left us tired and disappointed",
    "is worth every penny",
    "is the worst I have ever tried",
    "surprised me in the best way",
    "broke down after a single week",
    "felt calm, bright and pleasant",
    "was a waste of a whole evening",
)
SENTENCES: tuple[str, ...] = tuple(f"{subject} {verdict}." for subject in SUBJECTS for verdict in VERDICTS)

SHORT_TEXT = "The animal didn't cross the street because it was too tired"
LABELS = ("education", "politics", "business")
TEN_LABELS = (*LABELS, "sports", "food", "travel", "technology", "health", "music", "weather")


def text_of_tokens(tokenizer: Any, tokens: int) -> str:
    """English text that `tokenizer` cuts into about `tokens` tokens, its special tokens included.

    The corpus is repeated and cut; decoding and re-encoding may move the count by a token or two.
    """
    specials = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    wanted = max(1, tokens - specials)
    ids: list[int] = []
    while len(ids) < wanted:
        ids += tokenizer(" ".join(CORPUS), add_special_tokens=False, verbose=False)["input_ids"]
    return tokenizer.decode(ids[:wanted], skip_special_tokens=True).strip()


def count_tokens(tokenizer: Any, text: str) -> int:
    """Tokens of `text` as the app would feed them, special tokens included."""
    return len(tokenizer(text, verbose=False)["input_ids"])
