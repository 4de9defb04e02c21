"""Logging for the app and the download script: this project's lines at INFO, each line once."""

from __future__ import annotations

import logging

from huggingface_hub.utils import logging as hub_logging

OURS = ("services", "components")  # the loggers of this project's own modules


def configure_logging(*, line_format: str) -> None:
    """This project's lines from INFO and libraries' from WARNING (httpx logs every request at INFO).

    huggingface_hub logs through a handler of its own and also propagates to the root handler set
    up here, so each of its lines would print twice: it stops propagating. (transformers' logger
    already does not propagate.)
    """
    logging.basicConfig(level=logging.WARNING, format=line_format)
    for name in OURS:
        logging.getLogger(name).setLevel(logging.INFO)
    hub_logging.disable_propagation()
