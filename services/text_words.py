"""The words of a text, and which of a tokenizer's tokens make up each one.

A word is a run between spaces without the punctuation around it ("trivial:" is "trivial"), so every
tokenizer's pieces are matched to the same words, whatever its own idea of a word. A fast tokenizer
gives each token's character offsets; a tokenizer kept in Python (SentencePiece) marks the start of each
run between spaces with `▁` (services.tokens groups pieces that way). Pieces that stand for a space alone
belong to no word.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SPACES = "Ġ▁ "  # what a piece made only of spaces consists of


@dataclass(frozen=True)
class Word:
    """A word of the text: `text` is text[start:end]; `chunk` the span of its run between spaces."""

    text: str
    start: int
    end: int
    chunk: tuple[int, int]


def text_words(text: str) -> tuple[Word, ...]:
    """Each run between spaces, without the punctuation around it ("trivial:" is "trivial"); runs of
    punctuation alone are no words."""
    words = []
    for match in re.finditer(r"\S+", text):
        start, end = match.span()
        while start < end and punctuation(text[start]):
            start += 1
        while end > start and punctuation(text[end - 1]):
            end -= 1
        if start < end:
            words.append(Word(text[start:end], start, end, match.span()))
    return tuple(words)


def punctuation(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c).startswith("P") for c in text)


def pieces_by_offsets(
    offsets: Sequence[tuple[int, int]], special: Sequence[bool], tokens: Sequence[str], words: Sequence[Word]
) -> list[tuple[int, ...] | None]:
    """Each word's token positions, from a fast tokenizer's character offsets (a byte piece of a character
    spans the whole character); pieces that stand for spaces alone belong to no word."""
    found: list[list[int]] = [[] for _ in words]
    starts = [w.start for w in words]
    for i, (start, end) in enumerate(offsets):
        if special[i] or end <= start or not tokens[i].strip(SPACES):
            continue
        w = bisect.bisect_right(starts, end - 1) - 1  # the last word starting before the piece ends
        while w >= 0 and words[w].end > start:
            found[w].append(i)
            w -= 1
    return [tuple(sorted(p)) for p in found]


def pieces_by_words(axis: Any, text: str, words: Sequence[Word]) -> list[tuple[int, ...] | None]:
    """Each word's token positions for a tokenizer without offsets (SentencePiece in Python): its pieces
    mark word starts (services.tokens), one run of pieces per run between spaces, and the punctuation
    around a word is dropped. None for every word when the tokenizer's runs and the text's do not pair up."""
    runs: list[list[int]] = []
    for i, word in enumerate(axis.word_of):
        if axis.special[i] or not axis.tokens[i].strip(SPACES):
            continue
        if runs and axis.word_of[runs[-1][-1]] == word:
            runs[-1].append(i)
        else:
            runs.append([i])
    chunks = [match.span() for match in re.finditer(r"\S+", text)]
    if len(runs) != len(chunks):
        return [None] * len(words)
    by_chunk = dict(zip(chunks, runs, strict=True))
    result: list[tuple[int, ...] | None] = []
    for word in words:
        run = list(by_chunk[word.chunk])
        while len(run) > 1 and punctuation(axis.texts[run[0]]):
            run.pop(0)
        while len(run) > 1 and punctuation(axis.texts[run[-1]]):
            run.pop()
        result.append(tuple(run))
    return result
