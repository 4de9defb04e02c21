"""The bench's plumbing: statistics, targets, the report, and one measurement on tiny models.

No full-size model is built here and no timing is asserted: only shapes, fields and signs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report, suite
from bench.configs import SPECS
from bench.context import Context
from bench.endpoints import count_tokens, text_of_tokens
from bench.result import RATIO, Measurement, Target
from bench.timing import CpuSnapshot, others_share, paired, summarize


def test_summarize_gives_median_extremes_and_quartiles():
    spread = summarize([3.0, 1.0, 2.0, 10.0, 4.0])
    assert (spread.median, spread.low, spread.high, spread.n) == (3.0, 1.0, 10.0, 5)
    assert (spread.q1, spread.q3) == (2.0, 4.0)


def test_summarize_of_one_value_and_of_an_even_count():
    assert summarize([7.0]).median == summarize([7.0]).q1 == summarize([7.0]).q3 == 7.0
    assert summarize([1.0, 2.0, 3.0, 4.0]).median == 2.5
    with pytest.raises(ValueError):
        summarize([])


def test_paired_times_both_sides_once_per_repeat():
    calls = {"a": 0, "b": 0}
    timed = paired(
        lambda: calls.__setitem__("a", calls["a"] + 1),
        lambda: calls.__setitem__("b", calls["b"] + 1),
        repeats=4,
        min_seconds=0,
    )
    assert len(timed.a) == len(timed.b) == len(timed.ratios()) == 4
    assert calls["a"] >= 4 + 1 and calls["b"] >= 4 + 1
    assert all(t > 0 for t in timed.a + timed.b)


def test_others_share_is_the_busy_time_this_process_did_not_use():
    before = CpuSnapshot(busy=100, total=1000, own=50)
    after = CpuSnapshot(busy=700, total=2000, own=350)
    assert others_share(before, after) == pytest.approx(0.3)
    assert others_share(after, after) == 0.0


def test_a_target_is_met_at_or_below_or_above_its_bound():
    at_most = Measurement("a", RATIO, (1.0, 1.04, 1.2), Target("<=", 1.05))
    at_least = Measurement("b", RATIO, (1.2, 1.4, 1.3), Target(">=", 1.5))
    untargeted = Measurement("c", "ms", (5.0,))
    assert at_most.met is True and at_most.missed_text() == ""
    assert at_least.met is False
    assert at_least.missed_text() == "missed: 1.30× vs ≥ 1.50× (13% short)."
    assert untargeted.met is None
    with pytest.raises(ValueError):
        Target("<", 1.0)


def test_result_text_shows_median_range_and_repeats():
    assert Measurement("a", RATIO, (1.0, 1.04, 1.2)).result_text() == "1.04× (1.00–1.20, n=3)"
    assert Measurement("b", "MB", (0.47,)).result_text() == "0.47 MB (n=1)"
    assert Measurement("c", RATIO, (), available=False).result_text() == "not available"


def test_as_json_has_every_field_the_results_file_promises():
    row = Measurement("a", RATIO, (2.0, 1.0, 3.0), Target("<=", 1.05), note="why", details={"x": 1})
    data = row.as_json()
    assert set(data) >= {"name", "value", "unit", "spread", "repeats", "target", "met", "note", "details"}
    assert data["value"] == 2.0 and data["repeats"] == 3 and data["met"] is False
    assert data["spread"]["min"] == 1.0 and data["spread"]["max"] == 3.0
    assert data["note"].startswith("missed: 2.00× vs ≤ 1.05×") and data["note"].endswith("why")
    json.dumps(data)


def test_table_has_one_row_per_measurement_with_met_marks():
    rows = [
        Measurement("fast", RATIO, (0.3,), Target("<=", 0.35)),
        Measurement("slow", "ms", (20.0, 30.0), Target("<=", 10.0)),
        Measurement("info", "s", (1.0,)),
        Measurement("skipped", RATIO, (), note="not available: no endpoint", available=False),
    ]
    lines = report.table(rows).splitlines()
    assert lines[0] == "| measurement | result | target | met |"
    assert lines[2] == "| fast | 0.30× (n=1) | ≤ 0.35× | yes |"
    assert lines[3] == "| slow | 25.0 ms (20.0–30.0, n=2) | ≤ 10.0 ms | **no** |"
    assert lines[4] == "| info | 1.00 s (n=1) | — | — |"
    assert lines[5] == "| skipped | not available | — | — |"
    notes = report.notes(rows)
    assert "**slow**: missed: 25.0 ms vs ≤ 10.0 ms (150% over)." in notes
    assert "**skipped**: not available: no endpoint" in notes
    assert "**fast**" not in notes


def test_readme_section_is_replaced_only_between_the_markers(tmp_path: Path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{report.START}\nold table\n{report.END}\n\nAfter.\n", encoding="utf-8")
    assert report.replace_between_markers(readme, "| new | table |\n")
    assert readme.read_text(encoding="utf-8") == (
        f"# Title\n\n{report.START}\n| new | table |\n{report.END}\n\nAfter.\n"
    )
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers here\n", encoding="utf-8")
    assert not report.replace_between_markers(plain, "table")
    assert plain.read_text(encoding="utf-8") == "no markers here\n"
    assert not report.replace_between_markers(tmp_path / "missing.md", "table")


def test_sections_are_selected_by_name_in_run_order():
    sections = suite.sections()
    order = [s.name for s in sections]
    names = [s.name for s in suite.select(sections, ["payload", "roofline"])]
    assert names == sorted(["payload", "roofline"], key=order.index)
    assert len(suite.select(sections, None)) == len(sections)
    with pytest.raises(ValueError, match="Unknown section"):
        suite.select(sections, ["nope"])


@pytest.mark.parametrize("key", list(SPECS))
def test_the_published_configs_build_valid_transformers_configs(key):
    from transformers import AutoConfig

    fields = dict(SPECS[key].config)
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    assert config.vocab_size == fields["vocab_size"]
    assert SPECS[key].source.startswith("random/")


class TinyStore:
    """Stands in for ModelStore: every key gets the tiny sentiment model, loaded by the app's cache."""

    def __init__(self, folder: Path) -> None:
        from services.models import MODELS

        self.loaded = MODELS.get("sequence-classification", str(folder))

    def get(self, key: str):
        return self.loaded


def test_text_of_tokens_is_about_as_long_as_asked(tiny_models):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["sentiment"])
    assert abs(count_tokens(tokenizer, text_of_tokens(tokenizer, 40)) - 40) <= 2


def test_one_measurement_runs_on_tiny_models(tiny_models):
    from bench.measure_overhead import sentiment_overhead

    ctx = Context(quick=True, repeats=2, store=TinyStore(tiny_models["sentiment"]), min_seconds=0.0)
    row = sentiment_overhead(ctx)
    assert row.name.startswith("handler overhead: sentiment")
    assert row.unit == RATIO and len(row.values) == 2
    assert all(value > 0 for value in row.values) and row.median > 0
    assert row.target == Target("<=", 1.05) and row.met in (True, False)
    assert {"service_ms", "raw_ms", "forward_with_attentions_over_without"} <= set(row.details)
    assert row.as_json()["repeats"] == 2


def test_a_passed_deadline_keeps_only_the_first_repeat():
    from bench.timing import DEADLINE

    DEADLINE.set(-1.0)
    try:
        assert len(paired(lambda: None, lambda: None, repeats=5, min_seconds=0).a) == 1
    finally:
        DEADLINE.set(None)


def test_the_quiet_gate_runs_a_repeat_once_without_a_budget():
    from bench.timing import QuietGate

    runs = []
    gate = QuietGate(limit=0.0, budget_s=0.0)
    assert gate.run(lambda: runs.append(1) or "result") == "result"
    assert runs == [1] and gate.redone == 0


def test_the_classroom_plays_both_scenes_with_a_few_students(tiny_models):
    from bench.classroom import classroom

    rows = classroom(students=3, window=0.5, timeout=60, sharing=(True,), models=lambda: tiny_models, singles=1)
    by_name = {row.name: row for row in rows}
    for scene in ("a", "b"):
        assert by_name[f"classroom ({scene}, shared results on): failures"].values == (0.0,)
        [ratio] = [row for name, row in by_name.items() if name.startswith(f"classroom ({scene},") and "p95" in name]
        assert ratio.values[0] > 0 and ratio.details["p50_s"] <= ratio.details["p95_s"] <= ratio.details["max_s"]
    rss = by_name["classroom (shared results on): RSS growth across both scenes"]
    assert rss.unit == "MB" and "App process RSS" in rss.note


def test_the_classroom_block_survives_the_main_bench_rewriting_results(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(report, "machine_info", lambda: {"cpu": "test", "cores": 2})
    row = Measurement("classroom (a, shared results on): failures", "", (0.0,), Target("<=", 0))
    run = {"students": 3, "window_s": 1.0, "models": "tiny random"}
    report.write_classroom([row], tmp_path, wall_s=1.0, run=run)
    block = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert block.startswith(report.CLASSROOM[0]) and "classroom (a, shared results on): failures" in block
    monkeypatch.setattr(report, "markdown", lambda measurements, info: "Bench table\n")
    report.write([], tmp_path, quick=True, wall_s=1.0, run={})
    page = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert page.startswith("Bench table") and "classroom (a, shared results on): failures" in page
    report.write_classroom([row], tmp_path, wall_s=2.0, run=run)  # replaced in place, not added again
    assert (tmp_path / "results.md").read_text(encoding="utf-8").count(report.CLASSROOM[0]) == 1
