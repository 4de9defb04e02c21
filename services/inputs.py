"""What each task accepts, checked in one place, like transformers' argument handlers.

Torch-free: the UI builds its controls from these defaults and limits without loading torch, and
every check raises an InputError that names what was wrong and what is allowed.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.errors import InputError
from services.text import shorten, usable

# Numbers ---------------------------------------------------------------------------------------


def real_number(value: object, name: str) -> float:
    """A setting's value (a slider's float, or whatever an API client sent) as a finite float."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number, not '{shorten(value)}'.") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be a finite number, not {number}.")
    return number


def whole_number(value: object, name: str) -> int:
    """A setting's value as an int (a slider sends 40.0 for 40)."""
    return int(real_number(value, name))


# Generation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationOptions:
    """Decoding settings, named as in transformers' `generate`."""

    max_new_tokens: int = 40
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 50
    seed: int = 0
    num_sequences: int = 1


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
    if not 0 <= options.seed < 2**32:
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
    if isinstance(labels, str) and len(labels) > max_labels * (max_chars + 2):
        raise InputError(f"The labels are {len(labels):,} characters long: give at most {max_labels} short labels.")
    items = labels.split(",") if isinstance(labels, str) else [str(label) for label in labels]
    unique = list(dict.fromkeys(usable(label).strip() for label in items))
    unique = [label for label in unique if label]
    if not unique:
        raise InputError("Please give at least one candidate label, e.g. 'education, politics, business'.")
    if len(unique) > max_labels:
        raise InputError(f"{len(unique)} labels were given; at most {max_labels} are allowed.")
    for label in unique:
        if len(label) > max_chars:
            raise InputError(
                f"The label '{shorten(label)}' is {len(label):,} characters long; a label may have at most {max_chars}."
            )
    return unique


def check_template(template: str | None, *, max_chars: int = 200) -> str:
    """A hypothesis template with exactly one plain `{}` where the label goes (other braces doubled:
    `{{`). No field names, conversions or format specs: `{:>999999999}` would fill memory."""
    template = usable(template if isinstance(template, str) else "").strip() or DEFAULT_TEMPLATE
    if len(template) > max_chars:
        raise InputError(f"The hypothesis template is {len(template):,} characters long; the limit is {max_chars}.")
    try:
        fields = [parts[1:] for parts in string.Formatter().parse(template) if parts[1] is not None]
    except ValueError:  # a lone "{" or "}"
        fields = None
    if fields != [("", "", None)]:
        raise InputError(
            f"The hypothesis template '{shorten(template, 80)}' needs one '{{}}' where the label goes, "
            f"e.g. '{DEFAULT_TEMPLATE}'."
        )
    return template


# Translation -----------------------------------------------------------------------------------


def model_for(target_language: str, models: Mapping[str, str]) -> str:
    if not isinstance(target_language, str) or target_language not in models:
        raise InputError(
            f"'{shorten(target_language)}' is not a language this app translates to; "
            f"choose one of: {', '.join(models)}."
        )
    return models[target_language]


def check_beams(num_beams: int, *, max_beams: int) -> int:
    if not 1 <= num_beams <= max_beams:
        raise InputError(f"The number of beams must be from 1 (greedy) to {max_beams}, not {num_beams}.")
    return num_beams
