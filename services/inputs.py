"""Every value a visitor sends, parsed and checked in one place, like transformers' argument handlers.

Torch-free: the UI builds its controls from these defaults and limits without loading torch, and
every check raises an InputError that names what was wrong and what is allowed. Messages quote a
visitor's value through `echo` or `shorten`, so a 100 KB value never comes back whole.
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.errors import InputError

# Quoting and blanks ----------------------------------------------------------------------------


def shorten(value: object, limit: int = 40) -> str:
    """A visitor's value, cut for showing: a 100 KB value must not come back whole, and a character that
    cannot be encoded (a lone surrogate) is escaped, so the text can always be sent and logged."""
    text = _cut(value if isinstance(value, str) else _repr(value), limit)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def echo(value: object, limit: int = 40) -> str:
    """A visitor's value as every message quotes it: a string in quotes, escaped by repr (control characters,
    lone surrogates), anything else as its repr; cut to `limit` characters."""
    return repr(_cut(value, limit)) if isinstance(value, str) else shorten(value, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _repr(value: object) -> str:
    try:
        return repr(value)
    except ValueError:  # an int of more than 4,300 digits has no repr
        return f"a {type(value).__name__} too long to show"


def blank(value: object) -> bool:
    """None or an empty string: a control left at its default."""
    return value is None or (isinstance(value, str) and not value.strip())


# Text ------------------------------------------------------------------------------------------


def usable(text: str) -> str:
    """`text` without control characters (newline and tab kept) and lone surrogates: a tokenizer
    cannot encode a lone surrogate, and control characters only confuse the plots."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))


def clean_text(text: object, *, what: str = "text", max_chars: int) -> str:
    """The text with control characters and lone surrogates removed, and outer whitespace stripped.

    Raises InputError when it is not text, when it is longer than `max_chars` (checked first, so an
    oversized value costs no cleaning), or when nothing is left.
    """
    text = "" if text is None else text
    if not isinstance(text, str):
        raise InputError(f"The {what} must be given as text (a string), not {echo(text)}.")
    if len(text) > max_chars:
        raise InputError(f"The {what} is {len(text):,} characters long; the limit is {max_chars:,}. Please shorten it.")
    text = usable(text).strip()
    if not text:
        raise InputError(f"The {what} is empty: please type some {what}.")
    return text


def split_lines(text: str | None, *, max_items: int, max_chars: int, what: str = "text") -> list[str]:
    """One cleaned text per non-empty line, at most `max_items` of them."""
    lines = [line.strip() for line in clean_text(text, what=what, max_chars=max_chars).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > max_items:
        raise InputError(f"{len(lines)} texts were given; at most {max_items} at a time, one per line.")
    return lines


# Numbers ---------------------------------------------------------------------------------------


def as_whole_number(value: object) -> int | None:
    """The one whole-number parser: an int, a float with no fraction, or a string of digits; None otherwise.

    NaN, infinities, "2.5", "²" (a digit to str.isdigit, not to int), 5,000-digit strings and
    true/false are None. Callers phrase their own message, naming the control and its range.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None


def real_number(value: object, name: str) -> float:
    """A setting's value (a slider's float, or whatever an API client sent) as a finite float."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number, not {echo(value)}.") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be a finite number, not {number}.")
    return number


def whole_number(value: object, name: str) -> int:
    """A setting's value as an int (a slider sends 40.0 for 40); anything else is named in the message."""
    number = as_whole_number(value)
    if number is None:
        real_number(value, name)  # says so when it is no finite number at all
        raise InputError(f"{name} must be a whole number, not {echo(value)}.")
    return number


# Generation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationOptions:
    """Decoding settings, named as in transformers' `generate`."""

    max_new_tokens: int = 40
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 50
    seed: int | None = 0  # None: sampling draws anew each time
    num_sequences: int = 1

    @property
    def deterministic(self) -> bool:
        """Whether the same prompt gives the same text: greedy, or sampled from a seed."""
        return not self.do_sample or self.seed is not None


def generation_options(
    *,
    max_new_tokens: object,
    do_sample: object,
    temperature: object,
    top_p: object,
    top_k: object,
    seed: object,
    num_sequences: object,
    max_tokens_limit: int,
    max_sequences: int,
) -> GenerationOptions:
    """The generation controls as sent, parsed and checked into one GenerationOptions."""
    options = GenerationOptions(
        max_new_tokens=whole_number(max_new_tokens, "max_new_tokens"),
        do_sample=bool(do_sample),
        temperature=real_number(temperature, "temperature"),
        top_p=real_number(top_p, "top_p"),
        top_k=whole_number(top_k, "top_k"),
        seed=None if seed is None or seed == "" else whole_number(seed, "seed"),
        num_sequences=whole_number(num_sequences, "the number of sequences"),
    )
    return check_options(options, max_new_tokens=max_tokens_limit, max_sequences=max_sequences)


def check_options(options: GenerationOptions, *, max_new_tokens: int, max_sequences: int) -> GenerationOptions:
    """Raise InputError naming every setting that is out of range."""
    problems = []
    if not 1 <= options.max_new_tokens <= max_new_tokens:
        problems.append(f"max_new_tokens must be from 1 to {max_new_tokens}")
    if options.do_sample and not 0 < options.temperature <= 5:
        problems.append("temperature must be above 0 and at most 5")
    if options.do_sample and not 0 < options.top_p <= 1:
        problems.append("top_p must be above 0 and at most 1")
    if options.top_k < 0:
        problems.append("top_k must be 0 (off) or more")
    if options.seed is not None and not 0 <= options.seed < 2**32:
        problems.append("seed must be from 0 to 4294967295")
    if not 1 <= options.num_sequences <= max_sequences:
        problems.append(f"the number of sequences must be from 1 to {max_sequences}")
    elif options.num_sequences > 1 and not options.do_sample:
        problems.append("greedy decoding gives the same text every time: turn on sampling for several sequences")
    if problems:
        raise InputError("Please change the settings: " + "; ".join(problems) + ".")
    return options


# Zero-shot classification ----------------------------------------------------------------------

DEFAULT_TEMPLATE = "This example is {}."


def parse_labels(labels: str | Sequence[str] | None, *, max_labels: int, max_chars: int = 100) -> list[str]:
    """Comma-separated (or listed) labels, stripped and without duplicates, in the order given."""
    labels = labels or ""
    if not isinstance(labels, (str, list, tuple)):
        raise InputError(f"The labels must be text, such as 'education, politics', not {echo(labels)}.")
    if len(labels) > max_labels * (max_chars + 2):
        raise InputError(f"The labels are {len(labels):,} characters long: give at most {max_labels} short labels.")
    items = labels.split(",") if isinstance(labels, str) else [label for label in labels if isinstance(label, str)]
    unique = list(dict.fromkeys(usable(label).strip() for label in items))
    unique = [label for label in unique if label]
    if not unique:
        raise InputError("Please give at least one candidate label, e.g. 'education, politics, business'.")
    if len(unique) > max_labels:
        raise InputError(f"{len(unique)} labels were given; at most {max_labels} are allowed.")
    for label in unique:
        if len(label) > max_chars:
            raise InputError(
                f"The label {echo(label)} is {len(label):,} characters long; a label may have at most {max_chars}."
            )
    return unique


def check_template(template: str | None, *, max_chars: int = 200) -> str:
    """A hypothesis template with exactly one plain `{}` where the label goes (other braces doubled:
    `{{`). No field names, conversions or format specs: `{:>999999999}` would fill memory."""
    template = template if isinstance(template, str) else ""
    if len(template) > max_chars:
        raise InputError(f"The hypothesis template is {len(template):,} characters long; the limit is {max_chars}.")
    template = usable(template).strip() or DEFAULT_TEMPLATE
    try:
        fields = [parts[1:] for parts in string.Formatter().parse(template) if parts[1] is not None]
    except ValueError:  # a lone "{" or "}"
        fields = None
    if fields != [("", "", None)]:
        raise InputError(
            f"The hypothesis template {echo(template, 80)} needs one '{{}}' where the label goes, "
            f"e.g. '{DEFAULT_TEMPLATE}'."
        )
    return template


# Translation -----------------------------------------------------------------------------------


def model_for(target_language: str, models: Mapping[str, str]) -> str:
    if not isinstance(target_language, str) or target_language not in models:
        raise InputError(
            f"Target language {echo(target_language)} is not one this app translates to; "
            f"choose one of: {', '.join(models)}."
        )
    return models[target_language]


def check_beams(num_beams: int, *, max_beams: int) -> int:
    if not 1 <= num_beams <= max_beams:
        raise InputError(f"The number of beams must be from 1 (greedy) to {max_beams}, not {num_beams}.")
    return num_beams


def beams(value: object, *, max_beams: int) -> int:
    """The num_beams control as sent, parsed and checked."""
    return check_beams(whole_number(value, "the number of beams"), max_beams=max_beams)


# Heads to knock out ----------------------------------------------------------------------------

KNOCK_OUT = "Heads to knock out"


def heads(value: object, *, what: str = KNOCK_OUT, max_heads: int = 64) -> tuple[tuple[int, int], ...]:
    """'6.12, 2.3' as ((6, 12), (2, 3)): layer.head pairs counted from 1, in the order given, without repeats.

    Blank is no heads. Only the form is checked here; `check_heads` checks them against a model.
    """
    if blank(value):
        return ()
    example = f"{what} are layer.head pairs counted from 1, e.g. '6.12, 2.3'"
    if not isinstance(value, str) or len(value) > max_heads * 8:
        raise InputError(f"{example}; not {echo(value)}.")
    pairs = []
    for item in value.replace(";", ",").split(","):
        if not item.strip():
            continue
        parts = item.strip().split(".")
        numbers = [as_whole_number(part.strip()) if part.strip().isdigit() else None for part in parts]
        if len(parts) != 2 or None in numbers:
            raise InputError(f"{example}; {echo(item.strip())} is not one.")
        pairs.append((numbers[0], numbers[1]))
    unique = tuple(dict.fromkeys(pairs))
    if len(unique) > max_heads:
        raise InputError(f"{len(unique)} heads were given; {what.lower()} takes at most {max_heads}.")
    return unique


def check_heads(
    pairs: Sequence[tuple[int, int]], *, layers: int, heads_per_layer: int, what: str = KNOCK_OUT
) -> tuple[tuple[int, int], ...]:
    """The pairs, each naming a layer and head the model has; the message names the first that does not."""
    for layer, head in pairs:
        if not 1 <= layer <= layers:
            raise InputError(f"{what}: layer {layer} does not exist; this model has layers 1 to {layers}.")
        if not 1 <= head <= heads_per_layer:
            raise InputError(f"{what}: head {head} does not exist; this model has heads 1 to {heads_per_layer}.")
    return tuple(pairs)


def heads_text(pairs: Sequence[tuple[int, int]]) -> str:
    """((6, 12), (2, 3)) as '6.12, 2.3', the way a visitor writes them."""
    return ", ".join(f"{layer}.{head}" for layer, head in pairs)
