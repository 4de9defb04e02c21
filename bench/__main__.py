"""`python -m bench [--quick] [--only NAME ...] [--repeats N] [--readme]`: measure the app, write the results.

Progress goes to stderr; the results table to stdout, bench/results.json and bench/results.md, and
with --readme to README.md between `<!-- bench:start -->` and `<!-- bench:end -->` (when present).
`python -m bench --classroom [--full] [--students N] [--window S] [--readme]` plays a class of students instead
(bench/classroom.py); its block goes to bench/classroom.json, results.md and the README between
`<!-- classroom:start -->` and `<!-- classroom:end -->`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path

BENCH = Path(__file__).resolve().parent
QUICK_DEADLINE_S = 510.0  # a quick run stops starting work here, to end within 10 minutes
# Set before huggingface_hub is first imported (it reads these once): every model is built here.
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
}


class Elapsed(logging.Formatter):
    """Progress lines stamped with the seconds since the bench started."""

    def format(self, record: logging.LogRecord) -> str:
        return f"[{record.relativeCreated / 1000:6.1f} s] {record.getMessage()}"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Measure the playground on full-size random-weight copies of its models."
    )
    parser.add_argument("--quick", action="store_true", help="the short run (under 10 minutes on 2 cores)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these sections (see --list)")
    parser.add_argument("--repeats", type=int, help="repeats of each ratio (default: 3 quick, 7 full)")
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    parser.add_argument("--readme", action="store_true", help="also put the table in README.md's bench section")
    parser.add_argument("--classroom", action="store_true", help="play a class of students instead (tiny models)")
    parser.add_argument("--full", action="store_true", help="classroom: translate with a full-size random opus-mt")
    parser.add_argument("--students", type=int, default=40, help="students in the classroom (1 to 200; default 40)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which they start (default 10)")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not 1 <= args.students <= 200 or not 0 <= args.window <= 120:
        parser.error("--students must be from 1 to 200, and --window from 0 to 120 seconds")
    return args


def classroom(args: argparse.Namespace, start: float) -> int:
    """`--classroom`: both scenes with shared results off, then on; the block written where the docstring says."""
    from bench import report
    from bench.classroom import MODELS
    from bench.classroom import classroom as play
    from bench.context import ROOT

    logger = set_up_logging()
    models, described = MODELS["full" if args.full else "tiny"]
    rows = play(students=args.students, window=args.window, models=models)
    wall = time.perf_counter() - start
    command = "python -m bench --classroom" + (" --full" if args.full else "")
    run = {"students": args.students, "window_s": args.window, "models": described, "command": command}
    page = report.write_classroom(rows, BENCH, wall_s=wall, run=run)
    sys.stdout.write(page)
    readme = args.readme and report.replace_between_markers(ROOT / "README.md", page, report.CLASSROOM)
    logger.info("done in %.0f s; wrote %s%s", wall, BENCH / "classroom.json", " and README.md" if readme else "")
    return 0  # a missed target is a row of the table, as in the main bench


def set_up_logging() -> logging.Logger:
    """The bench's progress on stderr; no per-request HTTP logs, generation-config advice or progress bars."""
    os.environ["TQDM_DISABLE"] = "1"  # the lenses' bars (tqdm reads it for each new bar)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    for category in (UserWarning, DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    for name in ("httpx", "gradio", "gradio_client", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Elapsed())
    logger = logging.getLogger("bench")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    args = parse(argv)
    for name, value in OFFLINE.items():
        os.environ.setdefault(name, value)
    if args.classroom:
        return classroom(args, start)
    from bench import report, suite
    from bench.context import CACHE, ROOT, Context
    from bench.models import ModelStore
    from bench.timing import DEADLINE, GATE

    if args.list:
        sys.stdout.write("\n".join(section.name for section in suite.sections()) + "\n")
        return 0
    chosen = suite.select(suite.sections(), args.only)
    logger = set_up_logging()
    CACHE.mkdir(parents=True, exist_ok=True)
    repeats = args.repeats or (3 if args.quick else 7)
    GATE.budget_s = 30.0 if args.quick else 300.0  # seconds a run may spend timing busy repeats again
    if args.quick:  # no section starts, and no repeat beyond the first, after this
        DEADLINE.set(QUICK_DEADLINE_S - (time.perf_counter() - start))
    ctx = Context(quick=args.quick, repeats=repeats, store=ModelStore(CACHE), min_seconds=0.2 if args.quick else 0.5)
    logger.info(
        "bench (%s, %d repeats): %s", "quick" if args.quick else "full", repeats, ", ".join(s.name for s in chosen)
    )
    measurements, failed = suite.run(ctx, chosen)
    wall = time.perf_counter() - start
    run = {"repeats": repeats, "repeats_timed_again": GATE.redone, "sections": [s.name for s in chosen]}
    page = report.write(measurements, BENCH, quick=args.quick, wall_s=wall, run=run)
    sys.stdout.write(page)
    readme = args.readme and report.replace_between_markers(ROOT / "README.md", page)
    logger.info("done in %.0f s; wrote %s%s", wall, BENCH / "results.json", " and README.md" if readme else "")
    if failed:
        logger.error("failed sections: %s", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
