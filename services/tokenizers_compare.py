"""Tokenizers side by side: one text through the tokenizer of every configured model.

preprocess: the text's words (runs between spaces, their outer punctuation left out) -> forward: each
tokenizer encodes the text as its model would receive it, and once more without special tokens ->
postprocess: each tokenizer's pieces (raw and readable, services.tokens), ids, algorithm, the special
tokens it adds, what `decode` gives back, and the pieces of each word; then the differences that teach:
a word split differently, an unknown token, a word that becomes MANY_PIECES pieces or more.
No weights load: only tokenizers (services.tokenizer_loading).
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.config import ConfiguredModel
from services.errors import PlaygroundError
from services.text_words import Word, pieces_by_offsets, pieces_by_words, text_words
from services.tokenizer_algorithm import algorithm
from services.tokenizer_loading import TOKENIZERS
from services.tokens import token_axis

logger = logging.getLogger(__name__)

MANY_PIECES = 4  # a word cut into this many pieces or more is flagged


@dataclass(frozen=True)
class Tokenized:
    """One tokenizer's reading of the text, or its `error`.

    `tokens`, `ids`, `texts` (readable), `special` and `unknown` hold the first tokens (at most the
    request's limit) of the `count` the text makes, and `decoded` is what `decode` gives back for them;
    `changes` compares the whole text's decode with the text. `added` is each special token the tokenizer adds,
    with where ("start", "end", or "" when it is not at either end). `word_pieces[w]` is the readable
    pieces of word w of the comparison, or None where this tokenizer's pieces could not be matched to words.
    """

    model: str
    uses: tuple[str, ...]
    error: str = ""
    algorithm: str = ""
    tokens: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    texts: tuple[str, ...] = ()
    special: tuple[bool, ...] = ()
    unknown: tuple[bool, ...] = ()
    word_starts: tuple[bool, ...] = ()
    count: int = 0
    added: tuple[tuple[str, str], ...] = ()
    decoded: str = ""
    changes: tuple[str, ...] = ()  # how decode (special tokens skipped) differs from the text; () when equal
    max_length: int | None = None
    word_pieces: tuple[tuple[str, ...] | None, ...] = ()
    unknown_words: tuple[str, ...] = ()
    unknown_count: int = 0
    unknown_token: str = ""

    @property
    def truncated(self) -> bool:
        return self.count > len(self.tokens)

    def as_raw_output(self) -> dict[str, Any]:
        if self.error:
            return {"model": self.model, "uses": list(self.uses), "error": self.error}
        return {
            "model": self.model,
            "uses": list(self.uses),
            "algorithm": self.algorithm,
            "tokens": list(self.tokens),
            "ids": list(self.ids),
            "special_tokens": [token for token, _ in self.added],
            "count": self.count,
            "truncated": self.truncated,
            "decoded": self.decoded,
        }


@dataclass(frozen=True)
class SplitDifference:
    """A word the tokenizers cut differently: (model, its readable pieces) for each that read it."""

    word: str
    pieces: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ManyPieces:
    """A word that some tokenizers cut into MANY_PIECES pieces or more: (model, number of pieces)."""

    word: str
    counts: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Comparison:
    text: str
    words: tuple[Word, ...]
    tokenizers: tuple[Tokenized, ...]
    split_differently: tuple[SplitDifference, ...]
    many_pieces: tuple[ManyPieces, ...]

    @property
    def unknown(self) -> tuple[Tokenized, ...]:
        """The tokenizers that wrote an unknown token."""
        return tuple(t for t in self.tokenizers if t.unknown_count)

    def as_raw_output(self) -> list[dict[str, Any]]:
        return [t.as_raw_output() for t in self.tokenizers]


def compare(
    text: str,
    models: Sequence[ConfiguredModel],
    *,
    max_tokens: int,
    on_load: Callable[[str], None] | None = None,
) -> Comparison:
    """`text` (already cleaned, services.inputs) through the tokenizer of each of `models`."""
    words = text_words(text)
    results = []
    for number, model in enumerate(models, start=1):
        report = None if on_load is None else (lambda message, n=number: on_load(f"{message} ({n} of {len(models)})"))
        results.append(_one(model, text, words, max_tokens=max_tokens, on_load=report))
    return Comparison(
        text=text,
        words=words,
        tokenizers=tuple(results),
        split_differently=_split_differently(words, results),
        many_pieces=_many_pieces(words, results),
    )


# forward -----------------------------------------------------------------------------------------


def _one(
    model: ConfiguredModel, text: str, words: Sequence[Word], *, max_tokens: int, on_load: Callable[[str], None] | None
) -> Tokenized:
    """One model's tokenizer on `text`; a tokenizer that fails says so in its own entry, and the others go on."""
    try:
        tokenizer = TOKENIZERS.get(model.source, on_load=on_load)
    except PlaygroundError as error:
        return Tokenized(model=model.name, uses=model.uses, error=str(error))
    try:
        return _tokenize(tokenizer, text, words, model=model, max_tokens=max_tokens)
    except Exception:  # a tokenizer's own failure on odd text must not take the other tokenizers down
        logger.exception("The tokenizer of %s failed on a text of %d characters", model.source, len(text))
        return Tokenized(model=model.name, uses=model.uses, error=f"The tokenizer of {model.name} failed on this text.")


def _tokenize(
    tokenizer: Any, text: str, words: Sequence[Word], *, model: ConfiguredModel, max_tokens: int
) -> Tokenized:
    fast = bool(getattr(tokenizer, "is_fast", False))
    encoding = tokenizer(text, return_offsets_mapping=fast, verbose=False)
    ids = list(encoding["input_ids"])
    plain = list(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
    axis = token_axis(tokenizer, ids)
    unk = getattr(tokenizer, "unk_token_id", None)
    unknown = tuple(i == unk and not s for i, s in zip(ids, axis.special, strict=True))
    if fast:
        positions = pieces_by_offsets(encoding["offset_mapping"], axis.special, axis.tokens, words)
    else:
        positions = pieces_by_words(axis, text, words)
    shown = slice(0, max_tokens)
    starts = tuple(i == 0 or axis.word_of[i] != axis.word_of[i - 1] for i in range(len(ids)))
    return Tokenized(
        model=model.name,
        uses=model.uses,
        algorithm=algorithm(tokenizer),
        tokens=axis.tokens[shown],
        ids=axis.ids[shown],
        texts=axis.texts[shown],
        special=axis.special[shown],
        unknown=unknown[shown],
        word_starts=starts[shown],
        count=len(ids),
        added=_added(tokenizer, ids, plain),
        decoded=tokenizer.decode(ids[:max_tokens]),
        changes=_changes(text, tokenizer.decode(ids, skip_special_tokens=True), any(unknown)),
        max_length=_max_length(tokenizer),
        word_pieces=tuple(None if p is None else tuple(axis.texts[i] for i in p) for p in positions),
        unknown_words=tuple(dict.fromkeys(w.text for w, p in zip(words, positions, strict=True) if _any(unknown, p))),
        unknown_count=sum(unknown),
        unknown_token=str(getattr(tokenizer, "unk_token", "") or ""),
    )


# postprocess -------------------------------------------------------------------------------------


def _any(flags: Sequence[bool], positions: Sequence[int] | None) -> bool:
    return bool(positions) and any(flags[i] for i in positions)


def _added(tokenizer: Any, ids: list[int], plain: list[int]) -> tuple[tuple[str, str], ...]:
    """The special tokens the tokenizer adds: `ids` is `plain` with them around it ([CLS] … [SEP]); where
    they are not only around it, the special tokens `ids` has more of than `plain`."""
    for k in range(len(ids) - len(plain) + 1):  # as many tries as tokens were added: a handful
        if ids[k : k + len(plain)] == plain:
            before, after = ids[:k], ids[k + len(plain) :]
            names = tokenizer.convert_ids_to_tokens(before + after)
            return tuple(zip(names, ["start"] * len(before) + ["end"] * len(after), strict=True))
    extra = Counter(ids) - Counter(plain)
    return tuple((token, "") for token in tokenizer.convert_ids_to_tokens(list(extra.elements())))


def _changes(text: str, decoded: str, unknown: bool) -> tuple[str, ...]:
    """How `decoded` (special tokens skipped) differs from `text`, in words a student knows; () when equal."""
    if decoded == text:
        return ()
    changes = []
    if any(c.isupper() for c in text) and not any(c.isupper() for c in decoded):
        changes.append("lowercased")
    if _accented(text) and not _accented(decoded):
        changes.append("accents dropped")
    if unknown:
        changes.append("unknown characters lost")
    if not unknown and _folded(decoded) != _folded(text) and _squashed(decoded) == _squashed(text):
        changes.append("spaces changed")
    return tuple(changes) or ("characters changed",)


def _accented(text: str) -> bool:
    return any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", text))


def _folded(text: str) -> str:
    """The text with case and accents left out."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def _squashed(text: str) -> str:
    """The text with case, accents and spaces left out."""
    return "".join(_folded(text).split())


def _max_length(tokenizer: Any) -> int | None:
    """The longest input the model takes; None where the tokenizer does not say (its sentinel is ~1e30)."""
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else None


def _split_differently(words: Sequence[Word], results: Sequence[Tokenized]) -> tuple[SplitDifference, ...]:
    """Each word (once) that two tokenizers cut at different places; case does not count (uncased
    tokenizers lowercase first)."""
    found, seen = [], set()
    for w, word in enumerate(words):
        if word.text in seen:
            continue
        seen.add(word.text)
        pieces = tuple((t.model, t.word_pieces[w]) for t in results if t.word_pieces and t.word_pieces[w] is not None)
        cuts = {tuple(piece.casefold() for piece in p) for _, p in pieces}
        if len(cuts) > 1:
            found.append(SplitDifference(word.text, pieces))
    return tuple(found)


def _many_pieces(words: Sequence[Word], results: Sequence[Tokenized]) -> tuple[ManyPieces, ...]:
    found, seen = [], set()
    for w, word in enumerate(words):
        if word.text in seen:
            continue
        seen.add(word.text)
        counts = tuple(
            (t.model, len(p)) for t in results if t.word_pieces and (p := t.word_pieces[w]) and len(p) >= MANY_PIECES
        )
        if counts:
            found.append(ManyPieces(word.text, counts))
    return tuple(found)
