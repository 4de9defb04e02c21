"""One measurement's repeats, its target, and whether the median meets it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.timing import Paired, Spread, median_ms, summarize

RATIO = "×"


@dataclass(frozen=True)
class Target:
    """A bound on the median: `op` is "<=" (at most) or ">=" (at least)."""

    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"A target's op is '<=' or '>=', not {self.op!r}.")

    def met(self, value: float) -> bool:
        return value <= self.value if self.op == "<=" else value >= self.value

    def text(self, unit: str) -> str:
        return f"{'≤' if self.op == '<=' else '≥'} {_number(self.value)}{_suffix(unit)}"


@dataclass(frozen=True)
class Measurement:
    """The repeats of one number the bench reports: a ratio where two things can be timed side by side,
    else ms, s, GB or MB. `note` says what the number leaves out; `available` is False for a row of a
    section that failed or was skipped."""

    name: str
    unit: str
    values: tuple[float, ...]
    target: Target | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    available: bool = True

    @property
    def spread(self) -> Spread | None:
        return summarize(self.values) if self.values else None

    @property
    def median(self) -> float | None:
        return self.spread.median if self.values else None

    @property
    def met(self) -> bool | None:
        """Whether the median meets the target; None without a target or a value."""
        if self.target is None or self.median is None or not self.available:
            return None
        return self.target.met(self.median)

    def result_text(self) -> str:
        """E.g. "1.03× (1.01–1.06, n=5)", or "not available"."""
        spread, suffix = self.spread, _suffix(self.unit)
        if not self.available or spread is None:
            return "not available"
        if spread.n == 1:
            return f"{_number(spread.median)}{suffix} (n=1)"
        return f"{_number(spread.median)}{suffix} ({_number(spread.low)}–{_number(spread.high)}, n={spread.n})"

    def missed_text(self) -> str:
        """How far the median is from a missed target; "" when met or untargeted."""
        if self.met is not False or self.target is None or self.median is None:
            return ""
        gap = abs(self.median - self.target.value) / abs(self.target.value) if self.target.value else float("inf")
        side = "over" if self.target.op == "<=" else "short"
        return (
            f"missed: {_number(self.median)}{_suffix(self.unit)} vs {self.target.text(self.unit)} ({gap:.0%} {side})."
        )

    def full_note(self) -> str:
        """The missed target, if any, then the note."""
        return " ".join(part for part in (self.missed_text(), self.note) if part)

    def as_json(self) -> dict[str, Any]:
        spread, target = self.spread, self.target
        return {
            "name": self.name,
            "value": self.median,
            "unit": self.unit,
            "spread": None
            if spread is None
            else {"min": spread.low, "max": spread.high, "q1": spread.q1, "q3": spread.q3},
            "repeats": len(self.values),
            "values": list(self.values),
            "target": None
            if target is None
            else {"op": target.op, "value": target.value, "text": target.text(self.unit)},
            "met": self.met,
            "available": self.available,
            "note": self.full_note(),
            "details": self.details,
        }


def ratio_row(
    name: str,
    timed: Paired,
    target: Target | None = None,
    sides: tuple[str, str] = ("a", "b"),
    *,
    note: str = "",
    **details,
) -> Measurement:
    """A / B of a paired timing, repeat by repeat; the details give each side's median as `<side>_ms`."""
    medians = {f"{sides[0]}_ms": median_ms(timed.a), f"{sides[1]}_ms": median_ms(timed.b)}
    return Measurement(name, RATIO, tuple(timed.ratios()), target, note=note, details={**medians, **details})


def _suffix(unit: str) -> str:
    return RATIO if unit == RATIO else f" {unit}"


def _number(value: float) -> str:
    """Three significant digits, without exponent for the sizes seen here."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}" if value else "0"
