"""`python -m bench --classroom`: a class of N students on one app process, each a gradio_client session.

The instructor says "now everyone click the translation example". Two scenes, each with the students
starting evenly over `window` seconds, on the translation tab (its first example, "You like this house"
→ French): (a) every student sends that example; (b) every student sends a sentence of their own. Both
run with shared results off (each request runs the model, as before issue 14) and on. A student's
latency is from their request to its whole answer; a request that fails, or has no answer within
`timeout` seconds, is a failure. The single request's latency is the median of a few sentences no one
else sent, on the idle app with its model loaded; RSS is the app process's, read from /proc.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gradio_client import Client

from bench.context import CACHE, ROOT
from bench.measure_process import wait_for_http
from bench.measure_server import free_port
from bench.result import RATIO, Measurement, Target
from bench.timing import summarize

logger = logging.getLogger("bench")

STUDENTS, WINDOW_S, TIMEOUT_S = 40, 10.0, 120.0
EXAMPLE = {"text": "You like this house", "target_language": "French"}
TRANSLATION_TOKENS = 24  # tiny Marian never writes </s>: a short sentence's translation, as in the tests
SINGLE_REPEATS = 5
TARGETS = {"a": 3.0, "b": 1.3, "rss_mb": 500.0}


def sentence(i: int) -> dict[str, str]:
    """A student's own sentence: each one different, all about as long as the example."""
    return {"text": f"Student {i} likes house {i}", "target_language": "French"}


@dataclass(frozen=True)
class Scene:
    latencies: tuple[float, ...]  # seconds, of the answered requests
    failures: int
    span_s: float  # first request sent → last answer
    app_cpu_s: float = 0.0  # CPU seconds the app process used meanwhile: what the class cost the server
    others_share: float = 0.0  # share of the machine's CPU neither the app nor the students used

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass(frozen=True)
class Classroom:
    """One app process's figures: shared results on or off."""

    shared: bool
    single_s: float
    a: Scene
    b: Scene
    rss_before_mb: float
    rss_after_mb: float
    workers: int


def tiny_models() -> dict[str, Path]:
    """The tests' tiny checkpoints, built once under bench/.cache/tiny."""
    from tests.tiny_models import build_all

    root = CACHE / "tiny"
    names = ("sentiment", "zero_shot", "generation", "translation_fr", "translation_de", "attention")
    if all((root / name / "config.json").is_file() for name in names):
        return {name: root / name for name in names}
    logger.info("building the tiny models under %s", root)
    return build_all(root)


def full_models() -> dict[str, Path]:
    """The tiny models, but translation on the bench's full-size random opus-mt-en-fr (saved once)."""
    from bench.models import ModelStore

    store = ModelStore(CACHE)
    folder = store.saved("marian")
    store.keep_only(())
    return tiny_models() | {"translation_fr": folder}


MODELS = {
    "tiny": (tiny_models, "the tests' tiny random models"),
    "full": (full_models, "a full-size random opus-mt-en-fr"),
}


def app_env(models: dict[str, Path], *, shared: bool, port: int) -> dict[str, str]:
    import json

    return dict(
        os.environ,
        PLAYGROUND_SENTIMENT_MODEL=str(models["sentiment"]),
        PLAYGROUND_ZERO_SHOT_MODEL=str(models["zero_shot"]),
        PLAYGROUND_GENERATION_MODEL=str(models["generation"]),
        PLAYGROUND_ATTENTION_MODEL=str(models["attention"]),
        PLAYGROUND_TRANSLATION_MODELS=json.dumps({"French": str(models["translation_fr"])}),
        PLAYGROUND_SHARED_RESULTS="1" if shared else "0",
        BENCH_TRANSLATION_TOKENS=str(TRANSLATION_TOKENS),
        HF_HUB_OFFLINE="1",
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        PYTHONPATH=str(ROOT),
    )


def cpu_ticks(pid: int | str = "self") -> int:
    """User and system CPU ticks of a process (its reaped children included)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15])


def machine_ticks() -> tuple[int, int]:
    """The machine's busy and total CPU ticks."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(v) for v in stat.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def session(url: str) -> Client | Exception:
    """A student's own session (a gradio_client reads the app's config first), or why it could not open."""
    try:
        return Client(url, verbose=False, analytics_enabled=False, httpx_kwargs={"timeout": TIMEOUT_S})
    except Exception as error:  # that student fails; the class goes on
        return error


def play(url: str, requests: Sequence[dict[str, str]], *, window: float, timeout: float, pid: int) -> Scene:
    """Each request from a student of their own (a new session), started evenly over `window` seconds, to
    the app of process `pid`."""
    with ThreadPoolExecutor(max_workers=4) as pool:  # sessions opened before the clock starts
        students = list(pool.map(lambda _: session(url), requests))
    gap = window / max(len(requests) - 1, 1)
    start = time.perf_counter()
    app, students_cpu, (busy, total) = cpu_ticks(pid), cpu_ticks(), machine_ticks()

    def student(i: int) -> float | None:
        time.sleep(max(0.0, start + i * gap - time.perf_counter()))
        began = time.perf_counter()
        try:
            if isinstance(students[i], Exception):
                raise students[i]
            students[i].submit(**requests[i], api_name="/translate").result(timeout=timeout)
        except Exception as error:  # a failure is counted, not raised: the others go on
            logger.info("  student %d failed: %s", i + 1, str(error)[:200])
            return None
        return time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        results = list(pool.map(student, range(len(requests))))
    span = time.perf_counter() - start
    app, students_cpu = cpu_ticks(pid) - app, cpu_ticks() - students_cpu
    busy, total = (now - before for now, before in zip(machine_ticks(), (busy, total), strict=True))
    others = max(0.0, (busy - app - students_cpu) / total) if total else 0.0
    latencies = tuple(t for t in results if t is not None)
    return Scene(latencies, len(results) - len(latencies), span, app / os.sysconf("SC_CLK_TCK"), others)


def one_app(
    models: dict[str, Path], *, shared: bool, students: int, window: float, timeout: float, singles: int
) -> Classroom:
    """Start the app, warm its model, time single requests, play both scenes, stop it."""
    from services.config import Settings

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.classroom_app"],
            cwd=ROOT,
            env=app_env(models, shared=shared, port=port),
            stdout=log,
            stderr=log,
        )
        try:
            wait_for_http(url, process)
            client = Client(url, verbose=False, analytics_enabled=False, httpx_kwargs={"timeout": TIMEOUT_S})
            client.predict(**sentence(-1), api_name="/translate")  # loads the model: not a student's wait
            single = []
            for i in range(singles):
                began = time.perf_counter()
                client.predict(**sentence(-2 - i), api_name="/translate")
                single.append(time.perf_counter() - began)
            before = rss_mb(process.pid)
            logger.info(
                "  shared results %s: single request %.3f s", "on" if shared else "off", summarize(single).median
            )
            a = play(url, [EXAMPLE] * students, window=window, timeout=timeout, pid=process.pid)
            logger.info("  (a) same example: p95 %.2f s, %d failures", a.percentile(0.95), a.failures)
            b = play(url, [sentence(i) for i in range(students)], window=window, timeout=timeout, pid=process.pid)
            logger.info("  (b) own sentences: p95 %.2f s, %d failures", b.percentile(0.95), b.failures)
            after = rss_mb(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    workers = Settings.from_env(app_env(models, shared=shared, port=port)).workers
    return Classroom(shared, summarize(single).median, a, b, before, after, workers)


def measurements(run: Classroom, students: int, window: float) -> list[Measurement]:
    """Rows for one app: each scene's p95 against its target, failures, RSS growth."""
    sharing = "shared results on" if run.shared else "shared results off"
    queueing = students * run.single_s / run.workers
    rows = []
    for name, scene, bound, what in (
        ("a", run.a, run.single_s * TARGETS["a"], f"{students} students, the same example within {window:.0f} s"),
        ("b", run.b, queueing * TARGETS["b"], f"{students} students, each their own sentence within {window:.0f} s"),
    ):
        reference = run.single_s if name == "a" else queueing
        per_student = scene.span_s / students
        rows.append(
            Measurement(
                f"classroom ({name}, {sharing}): p95 latency / "
                + ("single request" if name == "a" else "pure queueing (N × single / workers)"),
                RATIO,
                (scene.percentile(0.95) / reference,),
                Target("<=", TARGETS[name]),
                note=f"{what}: p50 {scene.percentile(0.5):.2f} s, p95 {scene.percentile(0.95):.2f} s, max "
                f"{max(scene.latencies, default=float('nan')):.2f} s, {scene.failures} failures; single request "
                f"{run.single_s:.3f} s; p95 bound {bound:.2f} s. Served {students} in {scene.span_s:.1f} s "
                f"({per_student:.2f} s a student); the app used {scene.app_cpu_s / students:.3f} s of CPU a "
                f"student. Other processes used {scene.others_share:.0%} of the machine's CPU meanwhile.",
                details={
                    "p50_s": scene.percentile(0.5),
                    "p95_s": scene.percentile(0.95),
                    "max_s": max(scene.latencies, default=None),
                    "failures": scene.failures,
                    "single_s": run.single_s,
                    "span_s": scene.span_s,
                    "app_cpu_s_per_student": scene.app_cpu_s / students,
                    "other_cpu_share": round(scene.others_share, 3),
                },
            )
        )
        rows.append(
            Measurement(f"classroom ({name}, {sharing}): failures", "", (float(scene.failures),), Target("<=", 0))
        )
    rows.append(
        Measurement(
            f"classroom ({sharing}): RSS growth across both scenes",
            "MB",
            (run.rss_after_mb - run.rss_before_mb,),
            Target("<=", TARGETS["rss_mb"]),
            note=f"App process RSS {run.rss_before_mb:.0f} MB after its model's first run, "
            f"{run.rss_after_mb:.0f} MB after both scenes.",
        )
    )
    return rows


def classroom(
    *,
    students: int = STUDENTS,
    window: float = WINDOW_S,
    timeout: float = TIMEOUT_S,
    sharing: Sequence[bool] = (False, True),
    models: Callable[[], dict[str, Path]] = tiny_models,
    singles: int = SINGLE_REPEATS,
) -> list[Measurement]:
    """Both scenes on an app with shared results off, then on (or as `sharing` says)."""
    folders = models()
    rows = []
    for shared in sharing:
        logger.info("classroom: %d students, shared results %s", students, "on" if shared else "off")
        rows += measurements(
            one_app(folders, shared=shared, students=students, window=window, timeout=timeout, singles=singles),
            students,
            window,
        )
    return rows
