"""Turn failures into messages a visitor can act on, and log what they should not see."""

from __future__ import annotations

import functools
import html
import inspect
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from components import session_state
from services.errors import InputError, PlaygroundError

logger = logging.getLogger(__name__)

TRUNCATED_NOTE = (
    "Note: the text was longer than the model's limit, or this Space's limit on tokens, and was truncated; "
    "only the first part was used."
)
UNEXPECTED = "Something went wrong while running the model. The error was logged; please try again or change the input."


def _as_gr_error(error: Exception) -> gr.Error:
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, PlaygroundError):
        # gr.Error renders HTML; the message may quote what the visitor typed.
        return gr.Error(html.escape(str(error), quote=False), print_exception=False)
    logger.exception("Unexpected error in a handler")
    return gr.Error(UNEXPECTED, print_exception=False)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler (plain or generator) so every failure reaches the visitor as a gr.Error.

    Each call also counts its session's kept memory (components.session_state), and a refused input
    does not stay in the session.
    """
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Any:
            session_state.account()
            try:
                yield from fn(*args, **kwargs)
            except Exception as error:
                raise _refused(error) from error

        return stream

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        session_state.account()
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            raise _refused(error) from error

    return call


def _refused(error: Exception) -> gr.Error:
    if isinstance(error, InputError):
        session_state.drop_refused_inputs()
    return _as_gr_error(error)


def progress_reporter(progress: gr.Progress) -> Callable[[str], None]:
    """A callback the model cache calls before a first load, shown as the progress text."""

    def report(message: str) -> None:
        progress(0, desc=message)

    return report


def warn_truncated(truncated: bool) -> str:
    """Warn (as a toast) and return a visible note when an input was cut to fit the model."""
    if not truncated:
        return ""
    gr.Warning(TRUNCATED_NOTE)
    return TRUNCATED_NOTE
