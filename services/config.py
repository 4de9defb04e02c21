"""Every setting of the playground, read from the environment in one place.

The task registry below names each task's default checkpoint (the ones the course material uses);
`PLAYGROUND_*` variables override them with a Hub id or a local folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Task -> default Hub checkpoint, like transformers' SUPPORTED_TASKS.
DEFAULT_MODELS: Mapping[str, str] = {
    "sentiment": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "zero_shot": "facebook/bart-large-mnli",
    "generation": "HuggingFaceTB/SmolLM2-360M",
    "attention": "bert-base-uncased",
    "fill_mask": "bert-base-uncased",
}

DEFAULT_TRANSLATION_MODELS: Mapping[str, str] = {
    "French": "Helsinki-NLP/opus-mt-en-fr",
    "German": "Helsinki-NLP/opus-mt-en-de",
    "Spanish": "Helsinki-NLP/opus-mt-en-es",
    "Indonesian": "Helsinki-NLP/opus-mt-en-id",
}

ENV_PREFIX = "PLAYGROUND_"

# ZeroGPU (services.gpu): seconds of GPU each run asks for. One forward pass of these models (sentiment,
# zero-shot, the attention tab, a knock-out of a classifier, the logit lens) takes well under a second
# on a GPU; runs bounded by a time limit (generation, translation, the lenses) ask for that limit. Every
# run asks for GPU_SPARE_SECONDS more: a fresh GPU worker first moves the loaded weights onto its GPU.
# Shorter requests wait less in ZeroGPU's own queue, and a run past its seconds is stopped.
GPU_PASS_SECONDS = 10
GPU_SPARE_SECONDS = 20


@dataclass(frozen=True)
class AttentionModel:
    """A model the attention tab offers, and how it loads (so another tab's copy is reused)."""

    label: str
    source: str
    kind: str

    @property
    def name(self) -> str:
        """What the page and the API call it: the Hub id, or a local folder's last two parts (where the
        server keeps its files is nobody's business)."""
        return short_name(self.source)


@dataclass(frozen=True)
class ConfiguredModel:
    """A checkpoint this configuration loads, and the tasks that use it (the tokenizers tab shows each once)."""

    source: str
    uses: tuple[str, ...]

    @property
    def name(self) -> str:
        """The Hub id, or a local model's short name (never a server path)."""
        return short_name(self.source)


class ConfigError(ValueError):
    """A setting in the environment cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for, so a public Space stays responsive."""

    max_input_chars: int = 10_000
    # Bytes one request may carry: two texts of max_input_chars, each character escaped in JSON as up to
    # 12 bytes (an emoji as two \uXXXX escapes), and room for the other settings. A larger request, or
    # any one value longer than max_input_chars, is refused before Gradio reads it (components.edge).
    max_request_bytes: int = 300_000
    # Places in the queue one session may hold: model runs (fewer than Settings.concurrent_runs, so one
    # session never holds every run admitted at once), and events of any kind (redraws are quick).
    max_session_places: int = 2
    max_session_events: int = 16
    # Exports (CSV, JSON, HTML files on the server's disk) one session may make in a minute.
    max_exports_per_minute: int = 6
    # Deep links (the page's state written to the server's disk): their size, a few a minute per session.
    max_deep_link_bytes: int = 4_000_000
    max_deep_links_per_minute: int = 6
    # Tokens one input may have, whatever the model accepts: attention grows with its square (SmolLM2
    # at 2,000 tokens returns 7.7 GB of attention), so longer inputs are cut and the visitor told.
    max_tokens: int = 512
    # Attention one forward pass may return; zero-shot splits its label pairs into passes that fit.
    max_attention_bytes: int = 10**9
    max_texts: int = 16
    max_labels: int = 20
    max_label_chars: int = 100
    max_template_chars: int = 200
    max_new_tokens: int = 256
    max_sequences: int = 4
    max_translation_tokens: int = 256
    # Tokens each model of the attention tab's "three architectures" reads, and the most its translation
    # writes: one sentence, so three heatmaps side by side stay readable and their response small.
    max_compare_tokens: int = 64
    max_beams: int = 4
    # Fills the fill-mask lab lists per sentence: pipeline("fill-mask")'s default is 5; 20 still reads on a slide.
    max_fill_mask_top_k: int = 20
    # Seconds of CPU one request may hold a worker for, whatever its settings (all of a generation's
    # sequences together): generation and translation stop writing at it and keep their text; any run
    # still going a few seconds later is stopped (services.run_guard). Runs take turns on the CPU, so a
    # short request does not wait behind it; one run at a time, it would wait at most about 15 s on 2 vCPU.
    max_run_seconds: float = 10.0
    # What one lens may spend (Integrated Gradients' 32 steps, head importance's pass per head): a lens
    # estimates its cost from one timed pass and declines, saying why, when it would run past this. Its
    # runs take turns on the CPU like the tabs' (its event's guard has this limit).
    max_lens_seconds: float = 60.0


@dataclass(frozen=True)
class Settings:
    """Which model each task uses, and the limits of one request."""

    sentiment_model: str = DEFAULT_MODELS["sentiment"]
    zero_shot_model: str = DEFAULT_MODELS["zero_shot"]
    generation_model: str = DEFAULT_MODELS["generation"]
    attention_model: str = DEFAULT_MODELS["attention"]
    fill_mask_model: str = DEFAULT_MODELS["fill_mask"]
    translation_models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TRANSLATION_MODELS))
    limits: Limits = field(default_factory=Limits)
    # Model runs computing at once; torch gets cores // workers threads each, so they never oversubscribe.
    workers: int = 1
    # Model runs admitted at once: they take turns on the `workers`, layer by layer, the run that has had
    # the least CPU first (services.turns), so a short request never waits long behind a long one. Each
    # admitted run holds its memory while it waits for a turn.
    concurrent_runs: int = 3
    # Requests waiting for a worker; beyond it visitors are told the app is busy and to try again,
    # instead of waiting minutes behind a crowd.
    queue_size: int = 64
    # Loaded models beyond this many bytes of weights evict the least recently used one.
    memory_budget_bytes: int | None = 10 * 10**9
    # Attention arrays of visitors' latest runs, which the explorers redraw from; past it the least
    # recently used runs are dropped (their visitors are asked to run the model again).
    results_budget_bytes: int | None = 3 * 10**9
    # Of which one session may hold this share (its latest run is kept even when larger): past it, its own
    # older runs give way first, so one visitor cannot push out everyone else's.
    results_session_share: float = 1 / 6
    # Sessions Gradio keeps (each holds its inputs' and outputs' last values, for its deep links); the
    # least recently used go first. Their bytes are counted, and past `sessions_budget_bytes` the least
    # recently used sessions are dropped too (components.session_state).
    session_capacity: int = 500
    sessions_budget_bytes: int | None = 10**9
    # Deep links on disk: deleted after this age, and the oldest beyond this total.
    deep_link_days: float = 7
    deep_links_budget_bytes: int = 500 * 10**6
    # Results of deterministic runs (greedy, or sampled with a seed) are shared by every visitor asking the
    # same thing (services.shared_results), within this share of `results_budget_bytes`; the run store
    # has the rest. PLAYGROUND_SHARED_RESULTS=0 turns sharing off.
    shared_results: bool = True
    results_shared_share: float = 1 / 4
    # Fast mode: "int8" (dynamic quantization of Linear layers), "bf16", or "auto" (bf16 where the CPU
    # computes it natively, else int8).
    fast_precision: str = "auto"
    fast_by_default: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def model(task: str) -> str:
            value = env.get(f"{ENV_PREFIX}{task.upper()}_MODEL", "").strip()
            return value or DEFAULT_MODELS[task]

        return cls(
            sentiment_model=model("sentiment"),
            zero_shot_model=model("zero_shot"),
            generation_model=model("generation"),
            attention_model=model("attention"),
            fill_mask_model=model("fill_mask"),
            translation_models=_translation_models(env.get(f"{ENV_PREFIX}TRANSLATION_MODELS")),
            workers=_positive_int(env, "WORKERS", 1),
            concurrent_runs=_positive_int(env, "CONCURRENT_RUNS", Settings.concurrent_runs),
            queue_size=_positive_int(env, "QUEUE_SIZE", 64),
            memory_budget_bytes=_budget(env, "MEMORY_BUDGET_GB", Settings.memory_budget_bytes),
            results_budget_bytes=_budget(env, "RESULTS_BUDGET_GB", Settings.results_budget_bytes),
            shared_results=env.get(f"{ENV_PREFIX}SHARED_RESULTS", "1").strip().lower() not in ("0", "off", "false"),
            **_fast(env),
        )

    def attention_models(self) -> list[AttentionModel]:
        """The attention tab's model, then the other tabs' models, one entry per checkpoint.

        When the attention tab's model is also the fill-mask lab's (bert-base-uncased, by default), it loads
        with its masked-LM head, so both tabs share one copy: the head changes no attention.
        """
        shared = self.attention_model == self.fill_mask_model
        candidates = [
            AttentionModel(
                f"{short_name(self.attention_model)} (encoder-only)",
                self.attention_model,
                "masked-lm" if shared else "encoder",
            ),
            AttentionModel(
                f"{short_name(self.sentiment_model)} (sentiment tab, encoder-only)",
                self.sentiment_model,
                "sequence-classification",
            ),
            AttentionModel(
                f"{short_name(self.zero_shot_model)} (zero-shot tab, encoder-decoder: encoder attention)",
                self.zero_shot_model,
                "sequence-classification",
            ),
            AttentionModel(
                f"{short_name(self.generation_model)} (generation tab, decoder-only)",
                self.generation_model,
                "causal-lm",
            ),
            AttentionModel(
                f"{short_name(self.fill_mask_model)} (fill-mask tab, encoder-only)", self.fill_mask_model, "masked-lm"
            ),
        ]
        unique = {candidate.source: candidate for candidate in reversed(candidates)}
        return [candidate for candidate in candidates if unique[candidate.source] is candidate]

    def configured_models(self) -> list[ConfiguredModel]:
        """Every checkpoint once, with the tasks that use it: each task of the DEFAULT_MODELS registry (a new
        task's `<task>_model` joins by its entry there), then each translation model."""
        uses: dict[str, list[str]] = {}
        for task in DEFAULT_MODELS:
            uses.setdefault(getattr(self, f"{task}_model"), []).append(task.replace("_", "-"))
        for language, source in self.translation_models.items():
            uses.setdefault(source, []).append(f"translation to {language}")
        return [ConfiguredModel(source, tuple(tasks)) for source, tasks in uses.items()]

    def all_models(self) -> list[str]:
        """Every checkpoint this configuration can load, for the offline download."""
        return [
            self.sentiment_model,
            self.zero_shot_model,
            self.generation_model,
            self.attention_model,
            self.fill_mask_model,
            *self.translation_models.values(),
        ]


def is_local(source: str) -> bool:
    """Whether a model source names a local folder or file rather than a Hub id ("org/name")."""
    path = Path(source).expanduser()
    return path.is_absolute() or source.startswith((".", "~")) or source.endswith(".gguf") or path.exists()


GENERIC_FOLDERS = {"model", "models", "checkpoint", "weights", "snapshot", "main"}


def short_name(source: str) -> str:
    """A model's name for titles, never a server path: the Hub id; for a local model, "org/name" of a Hub
    cache folder (`models--org--name`), a `.gguf` file's stem, or the folder's name (its parent's, when
    the folder is only called "model")."""
    if not is_local(source):
        return source
    path = Path(source).expanduser()
    cached = [part for part in path.parts if part.startswith("models--")]
    if cached:
        return cached[-1].removeprefix("models--").replace("--", "/")
    if path.suffix == ".gguf":
        return path.stem
    named = [part for part in path.parts if part not in ("/", ".", "..", "~")]
    while len(named) > 1 and named[-1].lower() in GENERIC_FOLDERS:
        named.pop()
    return named[-1] if named else source


def _translation_models(raw: str | None) -> dict[str, str]:
    name = f"{ENV_PREFIX}TRANSLATION_MODELS"
    if raw is None or not raw.strip():
        return dict(DEFAULT_TRANSLATION_MODELS)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{name} is not valid JSON ({error.msg}).") from error
    if not isinstance(value, dict) or not value:
        raise ConfigError(f'{name} must be a JSON object such as {{"French": "Helsinki-NLP/opus-mt-en-fr"}}.')
    if not all(isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip() for k, v in value.items()):
        raise ConfigError(f"{name} must map language names to model ids or folders, all non-empty strings.")
    return {k.strip(): v.strip() for k, v in value.items()}


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(ENV_PREFIX + name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


def _budget(env: Mapping[str, str], variable: str, default: int | None) -> int | None:
    name = f"{ENV_PREFIX}{variable}"
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in ("0", "none", "off"):
        return None
    try:
        gigabytes = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of gigabytes such as 10, or 'off'; not {raw!r}.") from None
    if gigabytes <= 0:
        raise ConfigError(f"{name} must be above 0 (or 'off' for no limit), not {raw!r}.")
    return int(gigabytes * 10**9)


FAST_PRECISIONS = ("int8", "bf16", "auto")


def _fast(env: Mapping[str, str]) -> dict[str, object]:
    """PLAYGROUND_FAST: unset or 0 (off by default); 1, auto, int8 or bf16 (on by default, in that precision)."""
    name = f"{ENV_PREFIX}FAST"
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "off", "false"):
        return {"fast_by_default": False}
    precision = "auto" if raw in ("1", "on", "true") else raw
    if precision not in FAST_PRECISIONS:
        raise ConfigError(f"{name} must be 0, 1, auto, int8 or bf16, not {raw!r}.")
    return {"fast_by_default": True, "fast_precision": precision}
