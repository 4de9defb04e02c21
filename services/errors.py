"""Errors whose message is meant for the visitor: what went wrong, and what to do.

Kept free of torch so the UI can catch them without importing a model stack.
"""


class PlaygroundError(Exception):
    """Base of every error whose message can be shown to a visitor as is."""


class InputError(PlaygroundError, ValueError):
    """A problem with the request; the message says what was wrong and what is allowed."""


class ModelLoadError(PlaygroundError, RuntimeError):
    """A model could not be loaded; the message names it, says why, and what to do."""
