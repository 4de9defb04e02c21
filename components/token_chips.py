"""The tokenizers tab's HTML: each tokenizer's tokens as coloured chips, and the differences that teach.

Pure functions of a `Comparison` (services.tokenizers_compare). Everything that comes from the visitor's
text (pieces, words, decoded text) goes through `html.escape`, so typed HTML stays inert text. A chip
shows the piece as a person reads it (services.tokens), and under it the tokenizer's own piece where
that differs (`Ġ`, `▁`, `##`), with its id on hover. A word that starts a new word gets a gap before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from services.inputs import shorten

if TYPE_CHECKING:
    from services.tokenizers_compare import Comparison, ManyPieces, SplitDifference, Tokenized

COLOURS = 6  # chip colours, cycled so neighbouring pieces always differ
MAX_FLAGGED = 4  # words shown in full under each kind of difference…
MAX_NAMED = 20  # …and the next ones named only
MAX_CUT = 12  # pieces of one word shown in a flag
WORD_CHARS = 40  # a flagged word is cut to this many characters


def cards_html(comparison: Comparison) -> str:
    """One card per tokenizer: name, algorithm, count, chips, special tokens added, decode's text."""
    return '<div class="tok-cards">' + "".join(_card(t) for t in comparison.tokenizers) + "</div>"


def flags_html(comparison: Comparison, *, many: int) -> str:
    """The differences that teach: words split differently, unknown tokens, words of `many` pieces or more,
    and decodes that do not give the text back."""
    items = [
        _split_items(comparison.split_differently),
        _unknown_items(comparison.unknown),
        _many_items(comparison.many_pieces, many),
        _decode_items(comparison.tokenizers),
    ]
    body = "".join(item for item in items if item)
    if not body:
        body = "<li>Every tokenizer cuts every word of this text the same way, and each gives the text back.</li>"
    return f'<div class="tok-flags"><h3>Differences that teach</h3><ul>{body}</ul></div>'


def _card(t: Tokenized) -> str:
    head = f'<span class="tok-model">{escape(t.model)}</span>'
    uses = f'<span class="tok-uses">used for {escape(", ".join(t.uses))}</span>' if t.uses else ""
    if t.error:
        failed = f"<p>{escape(t.error)}</p>"
        return f'<div class="tok-card tok-failed"><div class="tok-head">{head}{uses}</div>{failed}</div>'
    count = f"{t.count:,} token{'s' if t.count != 1 else ''}"
    facts = [
        f'<span class="tok-algorithm">{escape(t.algorithm)}</span>',
        f'<span class="tok-count">{count}</span>',
    ]
    notes = []
    if t.truncated:
        notes.append(f"Showing the first {len(t.tokens):,} of {t.count:,} tokens.")
    if t.max_length is not None and t.count > t.max_length:
        notes.append(f"Longer than the {t.max_length:,} tokens this model reads: a run of the model would cut it.")
    return (
        f'<div class="tok-card"><div class="tok-head">{head}{"".join(facts)}{uses}</div>'
        f'<div class="tok-chips">{_chips(t)}</div>'
        + "".join(f'<p class="tok-note">{escape(note)}</p>' for note in notes)
        + f'<p class="tok-fact"><b>Special tokens it adds:</b> {_added(t)}</p>'
        f'<p class="tok-fact"><b>decode gives back:</b> <code class="tok-decoded">{escape(t.decoded)}</code>'
        f"{_changed(t)}</p></div>"
    )


def _chips(t: Tokenized) -> str:
    chips, colour = [], 0
    for i, (token, token_id, text) in enumerate(zip(t.tokens, t.ids, t.texts, strict=True)):
        classes = ["tok"]
        if t.special[i]:
            classes.append("tok-special")
        elif t.unknown[i]:
            classes.append("tok-unknown")
        else:
            classes.append(f"c{colour % COLOURS}")
            colour += 1
        if i and t.word_starts[i]:
            classes.append("ws")
        title = f"id {token_id} · piece {token!r}"
        raw = f"<small>{escape(token)}</small>" if token != text else ""
        chips.append(f'<span class="{" ".join(classes)}" title="{escape(title)}">{escape(text)}{raw}</span>')
    return "".join(chips)


def _added(t: Tokenized) -> str:
    if not t.added:
        return "none: the model reads the text's own tokens only."
    where = {"start": "at the start", "end": "at the end", "": ""}
    return ", ".join(f"<code>{escape(token)}</code> {where[place]}".rstrip() for token, place in t.added) + "."


def _changed(t: Tokenized) -> str:
    if not t.changes:
        return ' <span class="tok-same">the text exactly, special tokens aside.</span>'
    return f' <span class="tok-differs">not the text: {escape(", ".join(t.changes))}.</span>'


def _word(word: str) -> str:
    return f'<q class="tok-word">{escape(shorten(word, WORD_CHARS))}</q>'


def _names(models: Sequence[str]) -> str:
    return f'<span class="tok-who">{escape(", ".join(models))}</span>'


def _more(words: Sequence[str]) -> str:
    """The flagged words past MAX_FLAGGED, named only."""
    rest, unnamed = words[MAX_FLAGGED : MAX_FLAGGED + MAX_NAMED], len(words) - MAX_FLAGGED - MAX_NAMED
    more = f", and {unnamed:,} more" if unnamed > 0 else ""
    return f'<li class="tok-rest">Also: {", ".join(_word(w) for w in rest)}{more}.</li>' if rest else ""


def _cut(pieces: Sequence[str]) -> str:
    """A word's pieces as `a | b | c`, the first MAX_CUT of them."""
    shown = " | ".join(escape(piece) for piece in pieces[:MAX_CUT])
    return f"{shown} | … ({len(pieces):,} pieces)" if len(pieces) > MAX_CUT else shown


def _grouped(pairs: Sequence[tuple[str, object]]) -> dict[object, list[str]]:
    """Models that share a value, in order: (model, value) pairs to {value: [models]}."""
    groups: dict[object, list[str]] = {}
    for model, value in pairs:
        groups.setdefault(value, []).append(model)
    return groups


def _split_items(differences: Sequence[SplitDifference]) -> str:
    if not differences:
        return ""
    rows = []
    for difference in differences[:MAX_FLAGGED]:
        cuts = {tuple(p.casefold() for p in pieces): pieces for _, pieces in difference.pieces}
        groups = _grouped([(model, tuple(p.casefold() for p in pieces)) for model, pieces in difference.pieces])
        shown = " · ".join(f"<code>{_cut(cuts[key])}</code> {_names(models)}" for key, models in groups.items())
        rows.append(f"<li>{_word(difference.word)}: {shown}</li>")
    rest = _more([d.word for d in differences])
    return (
        "<li><b>The same word, cut differently.</b> Each tokenizer learned its own vocabulary: a word common in "
        f"one model's training text is one piece there, several elsewhere.<ul>{''.join(rows)}{rest}</ul></li>"
    )


def _unknown_items(tokenizers: Sequence[Tokenized]) -> str:
    if not tokenizers:
        return ""
    groups = _grouped(
        [(t.model, (t.unknown_token, t.unknown_count, t.unknown_words[:MAX_FLAGGED])) for t in tokenizers]
    )
    rows = "".join(
        f"<li>{_names(models)}: <code>{escape(token)}</code> × {count:,}"
        + (f", for {', '.join(_word(w) for w in words)}" if words else "")
        + "</li>"
        for (token, count, words), models in groups.items()
    )
    return (
        "<li><b>Unknown tokens.</b> Where a vocabulary has no piece for a character, the model never sees what "
        f"was written. Byte-level BPE never needs one: any text is bytes.<ul>{rows}</ul></li>"
    )


def _many_items(many_pieces: Sequence[ManyPieces], many: int) -> str:
    if not many_pieces:
        return ""
    ranked = sorted(many_pieces, key=lambda m: -max(n for _, n in m.counts))
    rows = "".join(
        f"<li>{_word(m.word)}: "
        + " · ".join(f"{n} pieces {_names(models)}" for n, models in _grouped([(mo, n) for mo, n in m.counts]).items())
        + "</li>"
        for m in ranked[:MAX_FLAGGED]
    )
    return (
        f"<li><b>Words of {many} pieces or more.</b> A rare word, a number or an emoji costs many tokens: more of "
        f"the model's context, in pieces with little meaning alone.<ul>{rows}{_more([m.word for m in ranked])}"
        "</ul></li>"
    )


def _decode_items(tokenizers: Sequence[Tokenized]) -> str:
    groups = _grouped([(t.model, ", ".join(t.changes)) for t in tokenizers if not t.error and t.changes])
    if not groups:
        return ""
    rows = "".join(f"<li>{_names(models)}: {escape(str(changes))}</li>" for changes, models in groups.items())
    return (
        "<li><b>decode does not give the text back.</b> Uncased tokenizers lowercase and drop accents before "
        f"they cut, and an unknown token cannot become what it replaced.<ul>{rows}</ul></li>"
    )
