"""No value a visitor sends reaches `from_pretrained`: every endpoint, every text or choice parameter,
given the path of a loadable model that the configuration does not name, loads only configured models."""

from __future__ import annotations

import shutil

import pytest

from services import models
from services.config import Settings
from tests.app_server import playground_env

# Valid values for the parameters that must hold text, so a request gets as far as loading its model.
VALID = {
    "text": "I love food",
    "text_pair": "It is tasty",
    "prompt": "So today",
    "labels": "food, sports",
    "hypothesis_template": "This example is {}.",
}


@pytest.fixture(scope="module")
def unconfigured_model(tiny_models, broken_model):
    """A model folder that would load fine, but that no setting names."""
    return str(shutil.copytree(tiny_models["sentiment"], broken_model.parent / "unconfigured"))


@pytest.fixture
def loads(monkeypatch):
    """Every source the app asks the model loader for, while the test runs."""
    seen = []
    real_load = models.load_model

    def spy(kind, source, **options):
        seen.append(source)
        return real_load(kind, source, **options)

    monkeypatch.setattr(models, "load_model", spy)
    return seen


def text_parameters(client) -> dict[str, list[str]]:
    """Endpoint -> its parameters that take a string: free text, or one of a dropdown's choices."""
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    return {
        name: [
            p["parameter_name"]
            for p in endpoint["parameters"]
            if p["python_type"]["type"].startswith(("str", "Literal"))
        ]
        for name, endpoint in endpoints.items()
    }


@pytest.mark.slow  # a sweep of over a hundred requests against the launched app
def test_no_endpoint_loads_a_model_the_configuration_does_not_name(
    client, tiny_models, broken_model, unconfigured_model, loads
):
    configured = set(Settings.from_env(playground_env(tiny_models, broken_model)).all_models())
    parameters = text_parameters(client)
    assert {"/sentiment", "/zero_shot", "/generate", "/translate", "/attention"} <= parameters.keys()
    calls = 0
    for api_name, names in parameters.items():
        valid = {name: VALID[name] for name in names if name in VALID}
        for name in names:
            try:
                client.predict(**valid | {name: unconfigured_model}, api_name=api_name)
            except Exception as error:  # refused, or an error of its own: either way, nothing loaded
                assert "Traceback" not in str(error)
            calls += 1
    assert calls > 100
    assert unconfigured_model not in loads
    assert set(loads) <= configured
    # The spy does see a load of that folder, when one happens (models already loaded are cached).
    models.MODELS.discard(models.MODELS.get("sequence-classification", unconfigured_model))
    assert loads[-1] == unconfigured_model
