"""Measurements that need a fresh process, on the models saved under bench/.cache/.

Cold start: `python app.py` until the server answers HTTP, no model loaded; then each model's first
request, which loads it (the disk cache is warm after the first run: a process cold start, not a
disk one). Memory: RSS after loading each model and running it once, minus before, in a fresh
process per model; and the RSS of the app's process with all five defaults loaded and run, in fp32.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gradio_client import Client

from bench.configs import SPECS, deployment_env
from bench.context import ROOT, Context
from bench.endpoints import LABELS, SHORT_TEXT
from bench.measure_server import free_port
from bench.result import Measurement, Target
from bench.timing import summarize

logger = logging.getLogger("bench")

GB = 1e9
FIRST_REQUEST = {
    "distilbert": ("/sentiment", {"text": SHORT_TEXT}),
    "bart": ("/zero_shot", {"text": SHORT_TEXT, "labels": ", ".join(LABELS)}),
    "smollm2": ("/generate", {"prompt": SHORT_TEXT, "max_new_tokens": 16}),
    "marian": ("/translate", {"text": SHORT_TEXT, "target_language": "French"}),
    "bert": ("/attention", {"text": SHORT_TEXT}),
}
MARIAN_NOTE = "Both requests translate to the app's 256-token limit: the random decoder never writes </s>."


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    """Poll `url` every 50 ms until it answers 200."""
    give_up = time.perf_counter() + timeout
    while time.perf_counter() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with code {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def one_cold_start(folders: dict[str, Path], log: Any) -> dict[str, float]:
    """Start the app, time it to HTTP 200, then each model's first and second request; stop it."""
    port = free_port()
    server = {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "PYTHONPATH": str(ROOT)}
    env = dict(os.environ, HF_HUB_OFFLINE="1", **server, **deployment_env(folders))
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process)
        times = {"ready": time.perf_counter() - start}
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for key in folders:
            api_name, kwargs = FIRST_REQUEST[key]
            for attempt in ("first", "second"):
                began = time.perf_counter()
                client.predict(**kwargs, api_name=api_name)
                times[f"{key}_{attempt}"] = time.perf_counter() - began
        return times
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cold_start(ctx: Context) -> list[Measurement]:
    keys = ctx.pick(("distilbert",), tuple(SPECS))
    folders = {key: ctx.store.saved(key) for key in keys}
    runs = []
    with tempfile.TemporaryFile("w+") as log:
        for index in range(ctx.pick(min(ctx.repeats, 2), ctx.repeats)):
            logger.info("cold start %d: python app.py", index + 1)
            runs.append(one_cold_start(folders, log))
    rows = [
        Measurement(
            "cold start: process start → HTTP 200 (no model loaded)",
            "s",
            tuple(run["ready"] for run in runs),
            Target("<=", 5.0),
            note="torch, transformers and gradio are imported before the server starts.",
        )
    ]
    for index, key in enumerate(keys):
        second = summarize([run[f"{key}_second"] for run in runs]).median
        why = [f"Informational; the second request took {second:.2f} s.", MARIAN_NOTE if key == "marian" else ""]
        if index == 0:
            why.append("The first request of a process may also import torch and transformers.")
        rows.append(
            Measurement(
                f"cold start: first {FIRST_REQUEST[key][0]} request (loads {SPECS[key].label} from disk)",
                "s",
                tuple(run[f"{key}_first"] for run in runs),
                note=" ".join(part for part in why if part),
            )
        )
    return rows


def probe(what: str) -> dict[str, Any]:
    """Run bench.probe in a fresh interpreter; its last stdout line is the JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.probe", what],
        cwd=ROOT,  # so `-m bench.probe` finds the bench; the probe sets HF_HUB_OFFLINE itself
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(ctx: Context) -> list[Measurement]:
    """One probe process per model and one for all five, two at a time (RSS does not care, time does).
    transformers maps the weights and reads pages lazily, so the RSS reported is after one short request
    (every layer read, the embedding in part); the details add it after load and after reading all."""
    for key in SPECS:
        ctx.store.saved(key)  # saved once into bench/.cache/ and reused by later runs
    with ThreadPoolExecutor(max_workers=2) as pool:
        everything, *singles = pool.map(probe, ["all", *SPECS])
    rows = [
        Measurement(
            f"memory: {SPECS[key].label} loaded and run once (RSS after − before)",
            "GB",
            ((report["used"] - report["before"]) / GB,),
            note=f"Informational; fp32 weights {report['weights'] / GB:.2f} GB; "
            f"{(report['touched'] - report['before']) / GB:.2f} GB once every weight was read.",
            details=report,
        )
        for key, report in zip(SPECS, singles, strict=True)
    ]
    rows.append(
        Measurement(
            "memory: app process, all five defaults loaded and run once, fp32 (RSS)",
            "GB",
            (everything["used"] / GB,),
            Target("<=", 4.5),
            note=f"The app's imports alone hold {everything['before'] / GB:.2f} GB; the weights are "
            f"{everything['weights'] / GB:.2f} GB. RSS right after loading (lazily mapped) "
            f"{everything['after'] / GB:.2f} GB; after reading every weight {everything['touched'] / GB:.2f} GB.",
            details=everything,
        )
    )
    return rows
