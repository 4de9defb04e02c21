"""The tokens along one side of an attention matrix: pieces, ids, special tokens, words, and their text.

This is the one place that turns tokenizer pieces into text a person reads (`readable_tokens`,
`visible`): `Ġ`/`▁` become a leading space, dropped; `Ċ` a `⏎`; a lone space a `␣`; WordPiece's `##`
goes; byte-level BPE bytes (`Ã©`) become their character (é). The raw pieces stay in `tokens`.

The word rule, stated once for the UI and the docs: a piece joins the word before it unless it
starts a new one. In WordPiece (BERT) a piece starts a word unless it begins with `##`; in
byte-level BPE and SentencePiece (GPT-2, BART, SmolLM2, Marian) a piece starts a word when it
begins with a space or newline marker (`Ġ`, `▁`, `Ċ`). Special tokens are words of their own.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SPACE_MARKERS = ("Ġ", "▁", "Ċ", " ", "\n")
BARE_SPACES = ("Ġ", "▁", " ")
# Whitespace a label cannot show as itself; any other whitespace character shows as a space.
SIGNS = {" ": "␣", "\n": "⏎", "\r": "⏎", "\t": "⇥"}
BROKEN = "\ufffd"  # what decoding gives for part of a character's bytes
MAX_PIECES_PER_CHARACTER = 4  # UTF-8 needs at most 4 bytes, so at most 4 pieces


@dataclass(frozen=True)
class TokenAxis:
    """One side of an attention matrix, in the tokenizer's own pieces.

    `word_of[i]` is the index in `words` of the word that token i belongs to; words are
    contiguous runs of tokens. `padding` counts the pad tokens (attention mask 0) this input
    had in its batch; they are left out of the tokens and of the attention.
    `texts[i]` is token i as a person reads it (see `readable_tokens`); it defaults to the raw
    token. `starts_decoder` is True when token 0 is the decoder's start token (Marian's `<pad>`).
    """

    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    special: tuple[bool, ...]
    word_of: tuple[int, ...]
    words: tuple[str, ...]
    padding: int = 0
    texts: tuple[str, ...] = field(default=())
    starts_decoder: bool = False

    def __post_init__(self) -> None:
        if not self.texts:
            object.__setattr__(self, "texts", tuple(self.tokens))
        if len(self.texts) != len(self.tokens):
            raise ValueError(f"{len(self.texts)} texts for {len(self.tokens)} tokens.")

    def __len__(self) -> int:
        return len(self.tokens)

    def word_tokens(self, word: int) -> list[int]:
        """Positions of the tokens that make up `word`."""
        return [i for i, w in enumerate(self.word_of) if w == word]


def token_axis(tokenizer: Any, ids: Sequence[int], *, padding: int = 0, starts_decoder: bool = False) -> TokenAxis:
    """Name, flag and group into words the tokens `ids`, using `tokenizer`'s own vocabulary."""
    ids = [int(i) for i in ids]
    tokens = tuple(tokenizer.convert_ids_to_tokens(ids))
    structural = _structural_ids(tokenizer)
    special = tuple(i in structural for i in ids)
    word_of = _group_words(tokens, special, _continuation_prefix(tokenizer))
    # Words are contiguous runs of word_of, so one pass groups their pieces.
    runs = [list(members) for _, members in itertools.groupby(range(len(tokens)), key=word_of.__getitem__)]
    words = tuple(_word_text(tokenizer, [tokens[i] for i in run], special[run[0]]) for run in runs)
    return TokenAxis(
        tokens=tokens,
        ids=tuple(ids),
        special=special,
        word_of=word_of,
        words=words,
        padding=padding,
        texts=readable_tokens(tokenizer, tokens, special),
        starts_decoder=starts_decoder,
    )


def visible(text: str) -> str:
    """`text` as a label shows it: ends trimmed; whitespace it keeps, or is made of, shown as ␣, ⏎, ⇥."""
    text = text.replace("\r\n", "\n")
    core = text.strip()
    if core:
        return "".join(SIGNS.get(c, c) if c in "\n\r\t" else c for c in core)
    return "".join(SIGNS.get(c, "␣") for c in text)


def readable_tokens(tokenizer: Any, tokens: Sequence[str], special: Sequence[bool] | None = None) -> tuple[str, ...]:
    """Each token as a person reads it, from the tokenizer's own `convert_tokens_to_string`.

    Special tokens stay as written. A character whose bytes are split over several byte-level
    pieces shows on each of them, with the piece's place: "é (1/2)", "é (2/2)"; a piece whose
    character never completes shows its bytes ("<0xE6>").
    """
    special = special if special is not None else [False] * len(tokens)
    decode = functools.lru_cache(maxsize=None)(lambda *pieces: tokenizer.convert_tokens_to_string(list(pieces)))
    prefix = _continuation_prefix(tokenizer)
    texts: list[str] = []
    i = 0
    while i < len(tokens):
        if special[i]:
            texts.append(tokens[i])
            i += 1
            continue
        run = _character_run(tokens, special, i, decode)
        if run is None:
            texts.append(_piece_text(tokens[i], decode(tokens[i]), prefix))
            i += 1
            continue
        text = visible(decode(*tokens[i : i + run]))
        texts += [f"{text} ({k}/{run})" for k in range(1, run + 1)]
        i += run
    return tuple(texts)


def readable_pieces(tokenizer: Any, tokens: Sequence[str]) -> tuple[str, ...]:
    """Tokens that do not stand side by side in a text (a step's candidates), each read alone."""
    return tuple(readable_tokens(tokenizer, [token])[0] for token in tokens)


def _broken(text: str, pieces: Sequence[str]) -> bool:
    """Whether decoding `pieces` left part of a character (the pieces themselves hold no U+FFFD)."""
    return BROKEN in text and not any(BROKEN in piece for piece in pieces)


def _character_run(tokens: Sequence[str], special: Sequence[bool], start: int, decode) -> int | None:
    """How many pieces from `start` it takes to complete the character the piece at `start` begins; None
    when that piece decodes whole, or when its character never completes."""
    if not _broken(decode(tokens[start]), tokens[start : start + 1]):
        return None
    for end in range(start + 2, min(len(tokens), start + MAX_PIECES_PER_CHARACTER) + 1):
        if special[end - 1]:
            return None
        if not _broken(decode(*tokens[start:end]), tokens[start:end]):
            return end - start
    return None


def _piece_text(token: str, decoded: str, prefix: str | None) -> str:
    """One piece's text: WordPiece's continuation mark dropped, whitespace made visible; bytes of an
    unfinished character written as bytes."""
    if prefix and token.startswith(prefix) and decoded.startswith(prefix) and len(token) > len(prefix):
        decoded = decoded[len(prefix) :]
    if _broken(decoded, [token]):
        return _bytes_text(token) or visible(decoded)
    return visible(decoded) or "␣"  # SentencePiece decodes a lone "▁" to ""


@functools.cache
def _byte_of_char() -> dict[str, int]:
    """Byte-level BPE's table from the printable character standing for a byte back to the byte (GPT-2's)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = list(kept), 0
    for byte in range(256):
        if byte not in kept:
            kept.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(kept, chars, strict=True)}


def _bytes_text(token: str) -> str:
    """A byte-level piece as text, its bytes that are no whole character written "<0xE6>"; "" if not byte-level."""
    table = _byte_of_char()
    if not token or any(c not in table for c in token):
        return ""
    text = bytes(table[c] for c in token).decode("utf-8", errors="surrogateescape")
    shown = "".join(f"<0x{ord(c) - 0xDC00:02X}>" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in text)
    return visible(shown)


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
    return visible(tokenizer.convert_tokens_to_string(pieces)) or "␣"  # SentencePiece decodes "▁" to ""
