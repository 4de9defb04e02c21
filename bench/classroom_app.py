"""The app as `python app.py` serves it, for the classroom bench: configured by the same PLAYGROUND_*
variables, in a process of its own, so its RSS is the app's alone.

One difference, from BENCH_TRANSLATION_TOKENS: the translation limit, which lives in code. Random and tiny
Marian models never write </s>, so each translation would run to the app's 256 tokens where a real
opus-mt stops after a short sentence's dozen.
"""

from __future__ import annotations

import dataclasses
import os

from components import limits
from services.config import Settings
from services.logs import configure_logging


def main() -> None:
    import app

    settings = Settings.from_env()
    tokens = int(os.environ.get("BENCH_TRANSLATION_TOKENS", settings.limits.max_translation_tokens))
    settings = dataclasses.replace(settings, limits=dataclasses.replace(settings.limits, max_translation_tokens=tokens))
    demo = app.build_demo(settings)
    configure_logging(line_format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    demo.launch(**app.LAUNCH_OPTIONS, **limits.launch_options(settings))


if __name__ == "__main__":
    main()
