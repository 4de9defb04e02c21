"""The tokens along one side of an attention matrix: pieces, ids, special tokens and words.

The word rule, stated once for the UI and the docs: a piece joins the word before it unless it
starts a new one. In WordPiece (BERT) a piece starts a word unless it begins with `##`; in
byte-level BPE and SentencePiece (GPT-2, BART, SmolLM2, Marian) a piece starts a word when it
begins with a space or newline marker (`Ġ`, `▁`, `Ċ`). Special tokens are words of their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SPACE_MARKERS = ("Ġ", "▁", "Ċ", " ", "\n")
BARE_SPACES = ("Ġ", "▁", " ")


@dataclass(frozen=True)
class TokenAxis:
    """One side of an attention matrix, in the tokenizer's own pieces.

    `word_of[i]` is the index in `words` of the word that token i belongs to; words are
    contiguous runs of tokens. `padding` counts the pad tokens (attention mask 0) this input
    had in its batch; they are left out of the tokens and of the attention.
    """

    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    special: tuple[bool, ...]
    word_of: tuple[int, ...]
    words: tuple[str, ...]
    padding: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    def word_tokens(self, word: int) -> list[int]:
        """Positions of the tokens that make up `word`."""
        return [i for i, w in enumerate(self.word_of) if w == word]


def token_axis(tokenizer: Any, ids: Sequence[int], *, padding: int = 0) -> TokenAxis:
    """Name, flag and group into words the tokens `ids`, using `tokenizer`'s own vocabulary."""
    ids = [int(i) for i in ids]
    tokens = tuple(tokenizer.convert_ids_to_tokens(ids))
    structural = _structural_ids(tokenizer)
    special = tuple(i in structural for i in ids)
    word_of = _group_words(tokens, special, _continuation_prefix(tokenizer))
    # Words are contiguous runs of word_of, so one pass groups their pieces.
    runs = [list(members) for _, members in itertools.groupby(range(len(tokens)), key=word_of.__getitem__)]
    words = tuple(_word_text(tokenizer, [tokens[i] for i in run], special[run[0]]) for run in runs)
    return TokenAxis(tokens=tokens, ids=tuple(ids), special=special, word_of=word_of, words=words, padding=padding)


def _structural_ids(tokenizer: Any) -> set[int]:
    """The special ids that mark structure (start, end, separator, padding), not text.

    <unk> stands for real text the vocabulary lacks, so it is content, unless it doubles as a
    structural token: GPT-2 and SmolLM2 use `<|endoftext|>` for unk, bos and eos alike.
    """
    structural = set(getattr(tokenizer, "all_special_ids", ()))
    roles = {getattr(tokenizer, f"{role}_token_id", None) for role in ("bos", "eos", "sep", "cls", "pad", "mask")}
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk not in roles:
        structural.discard(unk)
    return structural


def _continuation_prefix(tokenizer: Any) -> str | None:
    """`##` for a WordPiece tokenizer; None for tokenizers that mark word starts instead."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    model = getattr(backend, "model", None)
    if type(model).__name__ == "WordPiece":
        return model.continuing_subword_prefix
    return None


def _group_words(tokens: Sequence[str], special: Sequence[bool], prefix: str | None) -> tuple[int, ...]:
    word_of: list[int] = []
    for i, token in enumerate(tokens):
        if i == 0:
            word_of.append(0)
            continue
        if special[i] or special[i - 1]:
            starts = True
        elif prefix is not None:
            starts = not token.startswith(prefix)
        elif tokens[i - 1] in BARE_SPACES:
            starts = False  # SentencePiece may split "▁You" into "▁" + "You": one word
        else:
            # A piece after a bare newline (`Ċ`, `ĊĊ`) also starts a word.
            starts = token.startswith(SPACE_MARKERS) or tokens[i - 1].strip("Ċ\n") == ""
        word_of.append(word_of[-1] + 1 if starts else word_of[-1])
    return tuple(word_of)


def _word_text(tokenizer: Any, pieces: list[str], special: bool) -> str:
    """The readable text of a word; whitespace-only words are shown as visible symbols."""
    if special:
        return pieces[0]
    text = tokenizer.convert_tokens_to_string(pieces)
    return text.strip() or text.replace("\n", "⏎").replace(" ", "␣") or "".join(pieces)
