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


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: the CPU, the thread settings and the library versions."""
    import gradio
    import torch
    import transformers

    return {
        "cpu": _cpu_model(),
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


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(measurements: Sequence[Measurement]) -> str:
    """A markdown table: measurement, result (median, min–max, repeats), target, met."""
    rows = ["| measurement | result | target | met |", "|---|---|---|---|"]
    for m in measurements:
        target = m.target.text(m.unit) if m.target else "—"
        met = {True: "yes", False: "**no**", None: "—"}[m.met]
        result = m.result_text()
        rows.append(f"| {m.name} | {result} | {target} | {met} |")
    return "\n".join(rows)


def notes(measurements: Sequence[Measurement]) -> str:
    """One bullet per row that missed its target or carries a note."""
    lines = []
    for m in measurements:
        text = " ".join(part for part in (m.missed_text(), m.note) if part)
        if text:
            lines.append(f"- **{m.name}**: {text}")
    return "\n".join(lines)


def markdown(measurements: Sequence[Measurement], info: dict[str, Any], *, quick: bool, wall_s: float) -> str:
    """The whole results page: a header line, the table, and the notes."""
    mode = "quick" if quick else "full"
    header = (
        f"Bench ({mode}, {info['date']}, {wall_s:.0f} s) on {info['machine']['cpu']}, "
        f"{info['machine']['cores']} cores, {info['machine']['torch_threads']} torch threads; "
        f"torch {info['machine']['torch']}, transformers {info['machine']['transformers']}, "
        f"gradio {info['machine']['gradio']}. Full-size models with random weights (`python -m bench`)."
    )
    parts = [header, "", table(measurements)]
    extra = notes(measurements)
    if extra:
        parts += ["", extra]
    return "\n".join(parts) + "\n"


def results_json(
    measurements: Sequence[Measurement], *, quick: bool, wall_s: float, run: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The results file: when, how, on what, then every measurement; `run` adds facts about the run."""
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "wall_s": round(wall_s, 1),
        **(run or {}),
        "machine": machine_info(),
        "measurements": [m.as_json() for m in measurements],
    }


def replace_between_markers(path: Path, text: str) -> bool:
    """Put `text` between the bench markers of `path`; False (file untouched) when they are absent."""
    if not path.is_file():
        return False
    content = path.read_text(encoding="utf-8")
    start, end = content.find(START), content.find(END)
    if start < 0 or end < start:
        return False
    updated = content[: start + len(START)] + "\n" + text.strip() + "\n" + content[end:]
    if updated != content:
        path.write_text(updated, encoding="utf-8")
    return True


def write(
    measurements: Sequence[Measurement],
    folder: Path,
    *,
    quick: bool,
    wall_s: float,
    readme: Path | None,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write results.json and results.md into `folder`, and the README section if it has the markers."""
    data = results_json(measurements, quick=quick, wall_s=wall_s, run=run)
    page = markdown(measurements, data, quick=quick, wall_s=wall_s)
    (folder / "results.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "results.md").write_text(page, encoding="utf-8")
    data["readme_updated"] = bool(readme) and replace_between_markers(readme, page)
    return data
