"""Write the results: bench/results.json, bench/results.md, and the README's bench section."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.result import Measurement

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
# The classroom bench (`--classroom`) keeps its own block, in results.md and the README, apart from the table.
CLASSROOM = ("<!-- classroom:start -->", "<!-- classroom:end -->")


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: the CPU, the thread settings and the library versions."""
    import gradio
    import torch
    import transformers

    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []
    cpus = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return {
        "cpu": cpus[0] if cpus else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gradio": gradio.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS"),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def table(measurements: Sequence[Measurement]) -> str:
    """A markdown table: measurement, result (median, min–max, repeats), target, met."""
    rows = ["| measurement | result | target | met |", "|---|---|---|---|"]
    for m in measurements:
        target = m.target.text(m.unit) if m.target else "—"
        met = {True: "yes", False: "**no**", None: "—"}[m.met]
        rows.append(f"| {m.name} | {m.result_text()} | {target} | {met} |")
    return "\n".join(rows)


def notes(measurements: Sequence[Measurement]) -> str:
    """One bullet per row that missed its target or carries a note."""
    return "\n".join(f"- **{m.name}**: {m.full_note()}" for m in measurements if m.full_note())


def markdown(measurements: Sequence[Measurement], info: dict[str, Any]) -> str:
    """The whole results page: a header line, the table, and the notes; `info` is the results file."""
    machine = info["machine"]
    header = (
        f"Bench ({info['mode']}, {info['date']}, {info['wall_s']:.0f} s) on {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['torch_threads']} torch threads; "
        f"torch {machine['torch']}, transformers {machine['transformers']}, "
        f"gradio {machine['gradio']}. Full-size models with random weights (`python -m bench`)."
    )
    return "\n\n".join(part for part in (header, table(measurements), notes(measurements)) if part) + "\n"


def replace_between_markers(path: Path, text: str, markers: tuple[str, str] = (START, END)) -> bool:
    """Put `text` between the bench markers of `path`; False (file untouched) when they are absent."""
    if not path.is_file():
        return False
    content = path.read_text(encoding="utf-8")
    start, end = content.find(markers[0]), content.find(markers[1])
    if start < 0 or end < start:
        return False
    updated = content[: start + len(markers[0])] + "\n" + text.strip() + "\n" + content[end:]
    if updated != content:
        path.write_text(updated, encoding="utf-8")
    return True


def write(measurements: Sequence[Measurement], folder: Path, *, quick: bool, wall_s: float, run: dict[str, Any]) -> str:
    """Write results.json (when, how, on what, `run`'s facts, every measurement) and results.md, the page
    it returns, into `folder`."""
    data = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "wall_s": round(wall_s, 1),
        **run,
        "machine": machine_info(),
        "measurements": [m.as_json() for m in measurements],
    }
    page = markdown(measurements, data)
    (folder / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "results.md").write_text(page + _classroom_block(folder / "results.md"), encoding="utf-8")
    return page


def _classroom_block(path: Path) -> str:
    """The classroom block of `path` (with its markers, after a blank line), or "" when it has none."""
    content = path.read_text(encoding="utf-8") if path.is_file() else ""
    start, end = content.find(CLASSROOM[0]), content.find(CLASSROOM[1])
    return "" if start < 0 or end < start else "\n" + content[start : end + len(CLASSROOM[1])] + "\n"


def write_classroom(measurements: Sequence[Measurement], folder: Path, *, wall_s: float, run: dict[str, Any]) -> str:
    """Write classroom.json, and the classroom block of results.md (added at its end the first time); the
    block's text is returned."""
    data = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 1),
        **run,
        "machine": machine_info(),
        "measurements": [m.as_json() for m in measurements],
    }
    machine = data["machine"]
    header = (
        f"Classroom bench ({data['date']}, {wall_s:.0f} s) on {machine['cpu']}, {machine['cores']} cores: "
        f"{run['students']} students, each a gradio_client session, over loopback to one app process on "
        f"{run['models']} (`{run.get('command', 'python -m bench --classroom')}`)."
    )
    page = "\n\n".join(part for part in (header, table(measurements), notes(measurements)) if part) + "\n"
    (folder / "classroom.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    results = folder / "results.md"
    if not replace_between_markers(results, page, CLASSROOM):
        before = results.read_text(encoding="utf-8").rstrip() + "\n\n" if results.is_file() else ""
        results.write_text(f"{before}{CLASSROOM[0]}\n{page.strip()}\n{CLASSROOM[1]}\n", encoding="utf-8")
    return page
