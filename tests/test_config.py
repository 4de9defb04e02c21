"""Configuration: the PLAYGROUND_* contract, the offline download, and the Space front matter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services import download
from services.config import DEFAULT_MODELS, DEFAULT_TRANSLATION_MODELS, ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_are_the_course_checkpoints():
    settings = Settings.from_env({})
    assert settings.sentiment_model == "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
    assert settings.zero_shot_model == "facebook/bart-large-mnli"
    assert settings.generation_model == "HuggingFaceTB/SmolLM2-360M"
    assert settings.attention_model == "bert-base-uncased"
    assert {"French", "German", "Spanish", "Indonesian"} <= set(settings.translation_models)
    assert all(m.startswith("Helsinki-NLP/opus-mt-en-") for m in settings.translation_models.values())


def test_every_model_is_overridden_by_its_variable(tmp_path):
    env = {
        "PLAYGROUND_SENTIMENT_MODEL": "a/b",
        "PLAYGROUND_ZERO_SHOT_MODEL": str(tmp_path),
        "PLAYGROUND_GENERATION_MODEL": str(tmp_path / "m.gguf"),
        "PLAYGROUND_ATTENTION_MODEL": "c/d",
        "PLAYGROUND_FILL_MASK_MODEL": "e/f",
        "PLAYGROUND_TRANSLATION_MODELS": '{"Dutch": "Helsinki-NLP/opus-mt-en-nl"}',
    }
    settings = Settings.from_env(env)
    assert (settings.sentiment_model, settings.zero_shot_model) == ("a/b", str(tmp_path))
    assert (settings.generation_model, settings.attention_model) == (str(tmp_path / "m.gguf"), "c/d")
    assert settings.fill_mask_model == "e/f"
    assert settings.translation_models == {"Dutch": "Helsinki-NLP/opus-mt-en-nl"}  # replaces the default set


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{French: x}", "not valid JSON"),
        ('["x"]', "JSON object"),
        ("{}", "JSON object"),
        ('{"French": ""}', "non-empty"),
    ],
)
def test_bad_translation_config_names_the_variable(raw, message):
    with pytest.raises(ConfigError, match=f"PLAYGROUND_TRANSLATION_MODELS.*{message}"):
        Settings.from_env({"PLAYGROUND_TRANSLATION_MODELS": raw})


def test_attention_tab_offers_each_checkpoint_once():
    settings = Settings.from_env({"PLAYGROUND_ATTENTION_MODEL": "same", "PLAYGROUND_SENTIMENT_MODEL": "same"})
    sources = [choice.source for choice in settings.attention_models()]
    assert sources == ["same", DEFAULT_MODELS["zero_shot"], DEFAULT_MODELS["generation"], DEFAULT_MODELS["fill_mask"]]
    assert settings.attention_models()[0].kind == "encoder"
    assert settings.attention_models()[-1].kind == "masked-lm"


def test_the_fill_mask_model_is_configured_and_shares_the_attention_tabs_copy():
    assert Settings.from_env({}).fill_mask_model == "bert-base-uncased"
    settings = Settings.from_env({"PLAYGROUND_FILL_MASK_MODEL": "FacebookAI/roberta-base"})
    assert settings.fill_mask_model == "FacebookAI/roberta-base"
    assert "FacebookAI/roberta-base" in settings.all_models()
    # By default both tabs name bert-base-uncased: one copy, loaded with its masked-LM head, serves both.
    [choice] = [c for c in Settings.from_env({}).attention_models() if c.source == "bert-base-uncased"]
    assert choice.kind == "masked-lm"


def test_download_fetches_hub_models_once_and_skips_local_ones(tmp_path, monkeypatch):
    fetched = {}
    monkeypatch.setattr(download.HfApi, "list_repo_files", lambda self, repo: ["config.json", "model.safetensors"])
    monkeypatch.setattr(
        download,
        "snapshot_download",
        lambda repo, allow_patterns, dry_run=False, **_: [] if dry_run else fetched.setdefault(repo, allow_patterns),
    )
    settings = Settings.from_env(
        {"PLAYGROUND_SENTIMENT_MODEL": str(tmp_path), "PLAYGROUND_GENERATION_MODEL": "/x/model.gguf"}
    )
    download.download(download.plan(settings))
    expected = [DEFAULT_MODELS["zero_shot"], DEFAULT_MODELS["attention"], *DEFAULT_TRANSLATION_MODELS.values()]
    assert list(fetched) == expected
    assert "model*.safetensors" in fetched[DEFAULT_MODELS["zero_shot"]]
    assert "pytorch_model*.bin" in download.allow_patterns(["config.json", "pytorch_model.bin"])


def front_matter() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md starts with Space front matter between --- lines"
    return match.group(1)


def test_space_front_matter_lists_the_default_models():
    meta = front_matter()
    for key in ("sdk: gradio", "app_file: app.py", "sdk_version:", "python_version:"):
        assert key in meta
    defaults = set(Settings.from_env({}).all_models())
    for key in ("preload_from_hub", "models"):  # preloaded at build time, so a restart downloads nothing
        block = re.search(rf"^{key}:\n((?:\s+-\s+\S+\n)+)", meta + "\n", re.M)
        assert block, f"front matter lists {key}"
        assert defaults <= set(re.findall(r"-\s+(\S+)", block.group(1)))


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"```bash\n# Run the tests\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in (ROOT / ".ci" / "run").read_text()
