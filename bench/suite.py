"""The bench's sections in run order, the models each needs, and running them one after another.

Before each section every model that no section still to come needs is freed, so each model is
built once and dropped as soon as it is no longer needed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench import measure_fast, measure_lenses, measure_overhead, measure_process, measure_server, measure_tasks
from bench.configs import SPECS
from bench.context import Context
from bench.result import Measurement
from bench.timing import DEADLINE, cpu_snapshot, others_share

logger = logging.getLogger("bench")

ALL = tuple(SPECS)
NOISY_SHARE = 0.10


@dataclass(frozen=True)
class Section:
    name: str
    run: Callable[[Context], list[Measurement]]
    needs: tuple[str, ...] = ()
    timed: bool = True  # False: sizes, not times, so other processes' load does not matter


def sections() -> list[Section]:
    return [
        # Sizes and subprocesses first: they build and save every model, and a busy machine
        # does not change a size. Then the timed sections; payload, sizes again, last.
        Section("memory", measure_process.memory, ALL, timed=False),
        Section("cold_start", measure_process.cold_start),
        Section("roofline", measure_overhead.roofline, ("distilbert", "bart")),
        Section("attention", measure_overhead.attention_cost, ("distilbert", "bert")),
        Section("overhead", measure_overhead.handler_overhead, ("distilbert", "bart", "smollm2")),
        Section("zero_shot", measure_tasks.zero_shot_labels, ("bart",)),
        Section("generation", measure_tasks.generation_streaming, ("smollm2",)),
        Section("translation", measure_tasks.translation_costs, ("marian",)),
        Section("lenses", measure_lenses.lenses, ("distilbert", "smollm2")),
        Section("fast", measure_fast.fast_mode, ("distilbert", "bart")),
        Section("e2e", measure_server.end_to_end, ALL),
        Section("payload", measure_server.payload, ALL, timed=False),
    ]


def select(all_sections: Sequence[Section], only: Sequence[str] | None) -> list[Section]:
    """The sections named in `only` (all when empty), in run order; unknown names raise."""
    if not only:
        return list(all_sections)
    known = {section.name for section in all_sections}
    unknown = sorted(set(only) - known)
    if unknown:
        raise ValueError(f"Unknown section(s) {', '.join(unknown)}; choose from: {', '.join(sorted(known))}.")
    return [section for section in all_sections if section.name in only]


def run(ctx: Context, chosen: Sequence[Section]) -> tuple[list[Measurement], list[str]]:
    """Run `chosen` in order; a section that fails leaves an error row and the others still run."""
    measurements: list[Measurement] = []
    failed: list[str] = []
    for index, section in enumerate(chosen):
        later = chosen[index:]
        if DEADLINE.passed():
            logger.info("section %s skipped: the run's time budget is spent", section.name)
            note = "not run: the quick run's time budget was spent (see other_cpu_share of the sections before)."
            measurements.append(Measurement(f"{section.name}: skipped", "", (), note=note, available=False))
            continue
        ctx.store.keep_only({key for s in later for key in s.needs})
        logger.info("section %s …", section.name)
        start, cpu = time.perf_counter(), cpu_snapshot()
        try:
            rows = section.run(ctx)
        except Exception as error:  # one broken section must not lose the others' results
            logger.error("section %s failed:\n%s", section.name, traceback.format_exc())
            failed.append(section.name)
            note = f"{type(error).__name__}: {error}"
            rows = [Measurement(f"{section.name}: failed", "", (), note=note, available=False)]
        share = others_share(cpu, cpu_snapshot())  # flagged on timings, not on sizes
        noisy = f" Other processes used {share:.0%} of the CPU meanwhile: noisy." if section.timed else ""
        for row in rows:
            logger.info("  %s: %s", row.name, row.result_text())
            note = (row.note + noisy).strip() if share > NOISY_SHARE else row.note
            measurements.append(
                dataclasses.replace(row, note=note, details={**row.details, "other_cpu_share": round(share, 3)})
            )
        elapsed = time.perf_counter() - start
        logger.info(
            "section %s done in %.0f s (other processes used %.0f%% of the CPU)", section.name, elapsed, share * 100
        )
    ctx.store.keep_only(())
    return measurements, failed
