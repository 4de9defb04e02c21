"""Checks on what a visitor typed, shared by every task."""

from __future__ import annotations

import unicodedata

from services.errors import InputError


def clean_text(text: str | None, *, what: str = "text", max_chars: int) -> str:
    """The text with control characters and lone surrogates removed, and outer whitespace stripped.

    Raises InputError when nothing is left, or when it is longer than `max_chars`.
    """
    text = usable(text or "").strip()
    if not text:
        raise InputError(f"The {what} is empty: please type some {what}.")
    if len(text) > max_chars:
        raise InputError(f"The {what} is {len(text):,} characters long; the limit is {max_chars:,}. Please shorten it.")
    return text


def usable(text: str) -> str:
    """`text` without control characters (newline and tab kept) and lone surrogates: a tokenizer
    cannot encode a lone surrogate, and control characters only confuse the plots."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def shorten(value: object, limit: int = 40) -> str:
    """A visitor's value, cut for quoting in a message: a 100 KB value must not come back whole."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def echo(value: object) -> str:
    """A visitor's value as a message quotes it: a string in quotes, escaped by repr (control characters,
    lone surrogates), anything else as its repr; cut by `shorten`."""
    return repr(shorten(value)) if isinstance(value, str) else shorten(repr(value))


def blank(value: object) -> bool:
    """None or an empty string: a control left at its default."""
    return value is None or (isinstance(value, str) and not value.strip())


def as_whole_number(value: object) -> int | None:
    """`value` as an int: an int, a float with no fraction, or a string of digits; None for anything else.

    NaN, infinities, "2.5", "²" (a digit to str.isdigit, not to int), 5,000-digit strings and
    true/false are None. (`inputs.whole_number` is the strict form for settings: it raises, naming one.)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None


def split_lines(text: str | None, *, max_items: int, max_chars: int, what: str = "text") -> list[str]:
    """One cleaned text per non-empty line, at most `max_items` of them."""
    lines = [line.strip() for line in clean_text(text, what=what, max_chars=max_chars).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > max_items:
        raise InputError(f"{len(lines)} texts were given; at most {max_items} at a time, one per line.")
    return lines
