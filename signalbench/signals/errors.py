"""The exceptions and warnings of the signal models (one module, so every other module may import it)."""

from __future__ import annotations

__all__ = ["ModelFileError", "NotFittedError", "SignalModelWarning"]


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit`` (a ``ValueError`` and an ``AttributeError``, as in scikit-learn)."""


class ModelFileError(ValueError):
    """A saved model that cannot be read: a corrupted or truncated file, or files that do not fit together.

    The message names the file (and the key inside it), what was expected and what was found, in the library's
    message form (``docs/architecture.md``).
    """


class SignalModelWarning(UserWarning):
    """Something about a model is suspicious but not fatal (e.g. a file saved by a newer library version)."""
