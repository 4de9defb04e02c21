"""No network: a model that is not cached fails within seconds, in one clear message, and the download
script says so plainly.

An unreachable Hub is a closed port on loopback, set where huggingface_hub reads it: its constants
in this process (they are read once, at import), `HF_ENDPOINT` in a subprocess. Every test here
refuses to resolve any name but loopback, and subprocesses get a closed loopback port as their
proxy, so nothing can leave the machine even if the code under test tried.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import DryRunFileInfo, constants

from services import download, hub, models
from services.config import Settings, short_name
from services.errors import ModelLoadError

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "::1", "localhost")
NOT_CACHED = "not-a-real-org/not-a-real-model"
DOUBLED = re.compile(r"[.!?;:,]\s*[.!?;:,]")  # "..", ". .", ".:", ":." and the like


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse to look up any name but loopback, and fail the test if anything asked."""
    asked = []
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in LOOPBACK:
            asked.append(host)
            raise socket.gaierror(f"test refuses to resolve {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield
    assert asked == [], f"tried to reach {asked}"


@pytest.fixture(autouse=True)
def fresh_probe(monkeypatch):
    """Forget earlier probes: a closed port of an earlier test may come round again."""
    monkeypatch.setattr(hub, "_hub_answers", {})


@pytest.fixture
def closed_url() -> str:
    """An address on loopback that refuses connections: a port bound, then let go."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache of this test's own."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def unreachable_hub(monkeypatch, closed_url, hub_cache) -> str:
    """Online mode (conftest sets offline mode), with the Hub at a closed port; returns its address."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", closed_url)
    # Derived from HF_ENDPOINT at import too: downloads build their URLs from it.
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", closed_url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    return closed_url


def put_in_hub_cache(cache: Path, repo: str, folder: Path) -> None:
    """Lay out `folder` as huggingface_hub keeps a download of `repo` at its main branch."""
    root = cache / f"models--{repo.replace('/', '--')}"
    commit = "0" * 40
    shutil.copytree(folder, root / "snapshots" / commit)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)


def load_failure(source: str) -> tuple[str, float, list[str]]:
    """The message of a failed first load, the seconds it took, and what the load announced."""
    announced: list[str] = []
    start = time.monotonic()
    with pytest.raises(ModelLoadError) as failure:
        models.ModelCache().get("encoder", source, on_load=announced.append)
    return str(failure.value), time.monotonic() - start, announced


def test_a_model_that_is_not_cached_fails_within_seconds_when_the_hub_is_out_of_reach(unreachable_hub):
    import transformers  # noqa: F401  (imported before the clock starts: the wait measured is the network's)

    message, seconds, announced = load_failure(NOT_CACHED)
    assert seconds < 5, f"{seconds:.1f} s before the message"
    assert message == (
        f"Could not load the model '{NOT_CACHED}': it is not in the Hugging Face cache, and the Hub cannot be "
        "reached to download it; connect to the network and try again, or download the models beforehand "
        "(see the README's 'Offline' section)."
    )
    assert not DOUBLED.search(message), message
    assert announced == [f"Loading {NOT_CACHED} (size unknown)…"]


def test_offline_mode_says_so_and_claims_no_connection():
    assert constants.HF_HUB_OFFLINE, "conftest sets HF_HUB_OFFLINE before the Hub client loads"
    message, seconds, _ = load_failure(NOT_CACHED)
    assert "offline mode (HF_HUB_OFFLINE)" in message and "not in the Hugging Face cache" in message
    assert "connect" not in message.lower() and "reached" not in message, message
    assert not DOUBLED.search(message), message
    assert seconds < 5


@pytest.mark.parametrize("offline_mode", [False, True], ids=["hub-out-of-reach", "offline-mode"])
def test_a_cached_hub_model_still_loads(offline_mode, tiny_models, unreachable_hub, hub_cache, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline_mode)
    put_in_hub_cache(hub_cache, "tiny-org/tiny-bert", tiny_models["attention"])
    announced: list[str] = []
    loaded = models.ModelCache().get("encoder", "tiny-org/tiny-bert", on_load=announced.append)
    assert loaded.model.config.model_type == "bert"
    assert re.fullmatch(r"Loading tiny-org/tiny-bert \(\d+ KB\)…", announced[0]), announced


def test_the_hub_is_probed_once_for_many_loads(unreachable_hub, monkeypatch):
    probes = []
    monkeypatch.setattr(hub, "_answers", lambda url, timeout: probes.append(url) or False)
    for _ in range(3):
        load_failure(NOT_CACHED)
    assert probes == [unreachable_hub]


def test_a_hub_that_never_answers_counts_as_out_of_reach(monkeypatch):
    """A connection that opens but stays silent (a black hole, a captive portal) costs the probe's
    timeout, not huggingface_hub's retries."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nobody ever reads or answers
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setattr(hub, "HUB_PROBE_SECONDS", 0.5)
        start = time.monotonic()
        assert hub.hub_state() == "unreachable"
        assert time.monotonic() - start < 2


@pytest.mark.parametrize("offline_mode", [False, True], ids=["hub-out-of-reach", "offline-mode"])
def test_a_model_not_cached_offline_is_one_log_line(offline_mode, unreachable_hub, monkeypatch, caplog):
    """Expected without a network: the server log gets one line, not a traceback."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline_mode)
    caplog.set_level(logging.INFO, logger="services")
    load_failure(NOT_CACHED)
    failures = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [(r.name, r.exc_info) for r in failures] == [("services.models", None)], caplog.text
    assert NOT_CACHED in failures[0].getMessage() and "\n" not in failures[0].getMessage()


def test_an_unexpected_load_failure_keeps_its_traceback(tmp_path, caplog):
    load_failure(str(tmp_path))  # a folder with no model in it
    assert any(record.exc_info for record in caplog.records if record.name == "services.models"), caplog.text


@pytest.mark.parametrize(
    "error",
    [
        OSError("We couldn't connect to 'x' to load the files, and couldn't find them in the cached files.\nMore."),
        OSError("Repo id must be in the form 'a/b'. Use `repo_type` argument if needed."),
        ValueError("trailing colon:"),
        ValueError("already ends well?"),
        ValueError("two dots.."),
        ValueError(""),
        MemoryError(),
        RuntimeError("DefaultCPUAllocator: can't allocate memory."),
    ],
)
@pytest.mark.parametrize("state", [None, "offline mode", "unreachable", "reachable"])
def test_no_load_message_doubles_its_punctuation(error, state, tmp_path):
    for source in (NOT_CACHED, str(tmp_path), str(tmp_path / "missing")):
        message = models._explain(source, error, hub=state)
        assert message.startswith(f"Could not load the model '{short_name(source)}'")
        assert not DOUBLED.search(message), message


def run_offline(
    args: list[str], closed_url: str, tmp_path: Path, **env: str
) -> tuple[subprocess.CompletedProcess, float]:
    """`python args` with no offline mode, the Hub at a closed loopback port, and an empty cache."""
    environ = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    environ |= {"HF_ENDPOINT": closed_url, "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT)}
    environ |= {proxy: closed_url for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}  # nothing leaves
    environ |= env
    start = time.monotonic()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - start


@pytest.mark.slow
def test_a_fresh_app_process_reads_hf_endpoint_and_fails_fast(closed_url, tmp_path):
    """The environment variables, read at import as in the app, rather than constants patched here."""
    probe = (
        "import time, transformers\n"
        "from services.models import ModelCache\n"
        "start = time.monotonic()\n"
        "try:\n"
        f"    ModelCache().get('encoder', {NOT_CACHED!r}, on_load=lambda text: None)\n"
        "except Exception as error:\n"
        "    print(f'{time.monotonic() - start:.2f}', error)\n"
    )
    done, _ = run_offline(["-c", probe], closed_url, tmp_path)
    seconds, _, message = done.stdout.strip().partition(" ")
    assert float(seconds) < 5, done.stdout + done.stderr[-2000:]
    assert "the Hub cannot be reached" in message and not DOUBLED.search(message)


# The download script ----------------------------------------------------------------------------


def dry_run_file(name: str, size: int, *, cached: bool = False) -> DryRunFileInfo:
    return DryRunFileInfo(
        commit_hash="0" * 40,
        file_size=size,
        filename=name,
        local_path=f"/cache/{name}",
        is_cached=cached,
        will_download=not cached,
    )


def test_download_says_what_it_fetches_and_how_big_before_it_starts(monkeypatch, caplog):
    files = {
        "org/big": [dry_run_file("config.json", 1_000), dry_run_file("model.safetensors", 250_000_000)],
        "org/cached": [dry_run_file("config.json", 1_000, cached=True)],
    }
    fetched = []

    def snapshot(repo, *, allow_patterns, dry_run=False, local_files_only=False):
        if dry_run:
            return files[repo]
        fetched.append((repo, local_files_only))
        return f"/cache/{repo}"

    monkeypatch.setattr(download, "hub_state", lambda: "reachable")
    monkeypatch.setattr(download.HfApi, "list_repo_files", lambda self, repo: ["config.json", "model.safetensors"])
    monkeypatch.setattr(download, "snapshot_download", snapshot)
    monkeypatch.setattr(download, "hub_models", lambda settings: list(files))
    monkeypatch.setattr(logging.getLogger("huggingface_hub"), "propagate", True)  # main() turns it off
    caplog.set_level("INFO")

    assert download.main() == 0
    lines = caplog.messages
    assert "  org/big: 2 files, 250 MB" in lines
    assert "  org/cached: already cached" in lines
    total = next(i for i, line in enumerate(lines) if line.startswith("To download: 250 MB into "))
    assert total < lines.index("Downloading org/big (250 MB)")
    assert fetched == [("org/big", False), ("org/cached", True)]  # a cached model costs no request


def test_download_plans_only_the_configured_hub_models(tmp_path, monkeypatch):
    monkeypatch.setattr(download.HfApi, "list_repo_files", lambda self, repo: ["config.json", "model.safetensors"])
    monkeypatch.setattr(download, "snapshot_download", lambda repo, allow_patterns, dry_run: [])
    settings = Settings.from_env({"PLAYGROUND_SENTIMENT_MODEL": str(tmp_path)})
    assert [fetch.repo for fetch in download.plan(settings)] == download.hub_models(settings)
    assert str(tmp_path) not in download.hub_models(settings)


@pytest.mark.slow
def test_download_without_network_says_so_plainly_and_stops(closed_url, tmp_path):
    done, seconds = run_offline(["-m", "services.download"], closed_url, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert seconds < 10, f"{seconds:.1f} s"
    assert re.search(r"^No network: .*connect and run this again\.$", output, re.M), output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == len(set(lines)), output


@pytest.mark.slow
def test_download_in_offline_mode_says_to_unset_it(closed_url, tmp_path):
    done, seconds = run_offline(["-m", "services.download"], closed_url, tmp_path, HF_HUB_OFFLINE="1")
    output = done.stdout + done.stderr
    assert done.returncode == 1 and seconds < 10, output
    assert "HF_HUB_OFFLINE is set" in output and "Traceback" not in output
    assert "No network" not in output  # nothing was tried
