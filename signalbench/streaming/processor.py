"""The glue between a stream entry and a prediction: event fields -> feature row -> class probabilities.

:class:`Processor` is what the consumer needs (``docs/architecture.md``, "Streaming"); :class:`ModelProcessor` is the
real one: :class:`signalbench.data.OnlineFeatures` for the model's feature sets, then the model's
:meth:`stepper` (``window`` or ``stateful`` mode, ``torch`` or ``onnxruntime`` backend). Its state (features and
model) is what the sink checkpoints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from signalbench._runfolder import config_of, run_of_model
from signalbench._validation import expected
from signalbench.data import OnlineFeatures
from signalbench.signals.registry import load as load_model

__all__ = ["ModelProcessor", "Processor", "feature_sets_of", "levels_of"]


class Processor(Protocol):
    """One event in, class probabilities out; resettable per day; state saved and restored exactly."""

    classes: tuple[Any, ...]
    mode: str
    backend: str
    name: str

    def check(self, fields: Mapping[str, Any]) -> np.ndarray:
        """The event's input vector; ValueError naming a missing or non-numeric field (no state change)."""

    def process(self, x: np.ndarray) -> tuple[np.ndarray, float, float]:
        """``(probabilities, feature_us, model_us)`` for the checked event ``x`` (probabilities all-NaN: none)."""

    def reset(self) -> None:
        """Start of a new day."""

    def get_state(self) -> dict[str, np.ndarray]:
        """The exact state (restored with :meth:`set_state`)."""

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""


def _run_config(model_dir: Path) -> dict[str, Any] | None:
    run = run_of_model(model_dir)
    return config_of(run) if run is not None else None  # checked: a RunFolderError names a damaged file


def feature_sets_of(model_dir: Path) -> list[str] | None:
    """The feature sets of the run a model folder belongs to (``RUN_DIR/models/NAME`` -> ``RUN_DIR/config.json``)."""
    sets = (_run_config(model_dir) or {}).get("features")
    return [sets] if isinstance(sets, str) else list(sets) if sets else None


def levels_of(model_dir: Path) -> int | None:
    """The book levels of the data the model's run was fitted on (``config.json`` ``data.levels``); None: unknown.

    A LOBSTER run that kept every level of its files (``levels`` unset) does not record the number: None.
    """
    data = (_run_config(model_dir) or {}).get("data")
    levels = data.get("levels") if isinstance(data, dict) else None
    return levels if isinstance(levels, int) and not isinstance(levels, bool) else None


class ModelProcessor:
    """Online features plus a model stepper (see the module docstring).

    Parameters
    ----------
    model_dir : path
        A saved model (``RUN_DIR/models/NAME``), loadable with :func:`signalbench.load_model`.
    mode : {"window", "stateful"}
        The stepper mode.
    backend : {"torch", "onnxruntime"}
        The stepper backend.
    feature_sets : str or list of str, optional
        Default: the run folder's ``config.json`` ``features``; required when the model is not in a run folder.
    levels : int or None, default 1
        Book levels of the replayed data (from the stream metadata); None: not known yet, give them to
        :meth:`use_levels` before the first event (the arguments are checked at once, the depth when it is known).
    """

    def __init__(self, model_dir, *, mode: str = "window", backend: str = "torch", feature_sets=None,
                 levels: int | None = 1):  # fmt: skip
        self.model_dir = Path(model_dir).resolve()
        if not self.model_dir.is_dir():
            raise FileNotFoundError(expected("--model", "a saved model folder (RUN_DIR/models/NAME)",
                                             f"{self.model_dir} (no such folder)", raw=True))  # fmt: skip
        if feature_sets is None:
            feature_sets = feature_sets_of(self.model_dir)
            if feature_sets is None:
                raise ValueError(expected("--features", "the feature sets the model was trained on",
                                          f"a model outside a run folder ({self.model_dir})", raw=True,
                                          hint="pass --features lob_basic (or the sets used)"))  # fmt: skip
        self.feature_sets = [feature_sets] if isinstance(feature_sets, str) else list(feature_sets)
        self.model = load_model(self.model_dir)
        self.stepper = self.model.stepper(mode, backend)
        self.classes = tuple(self.stepper.classes)
        self.mode, self.backend, self.name = self.stepper.mode, self.stepper.backend, self.model_dir.name
        self.online: OnlineFeatures | None = None
        if levels is not None:
            self.use_levels(levels)
        else:  # load the feature kernels now (about a second), not after the stream has started
            OnlineFeatures(self.feature_sets, levels=1)

    def use_levels(self, levels: int) -> None:
        """Compute the online features for events of ``levels`` book levels (before the first event)."""
        online = OnlineFeatures(self.feature_sets, levels=levels)
        missing = [n for n in self.stepper.feature_names if n not in online.names]
        if missing:
            raise ValueError(expected("--features", f"feature sets that compute the model's features {missing} "
                                      f"from {levels}-level books", self.feature_sets))  # fmt: skip
        self.online = online
        self._index = np.array([online.names.index(n) for n in self.stepper.feature_names], dtype=np.intp)

    def check(self, fields: Mapping[str, Any]) -> np.ndarray:
        """The event vector in ``OnlineFeatures.fields`` order (ValueError naming the field)."""
        return self.online.event_vector(fields)

    def process(self, x: np.ndarray) -> tuple[np.ndarray, float, float]:
        """Update the features with event ``x`` and step the model; ``(probabilities, feature_us, model_us)``."""
        t0 = time.perf_counter_ns()
        row = self.online.update(x)[self._index]
        t1 = time.perf_counter_ns()
        probs = np.array(self.stepper.step(row), dtype=np.float64)
        t2 = time.perf_counter_ns()
        return probs, (t1 - t0) / 1e3, (t2 - t1) / 1e3

    def reset(self) -> None:
        """New day: features and model state start over."""
        self.online.reset()
        self.stepper.reset()

    def get_state(self) -> dict[str, np.ndarray]:
        """``features/<key>`` and ``model/<key>`` arrays."""
        state = {f"features/{k}": np.array(v) for k, v in self.online.get_state().items()}
        state.update({f"model/{k}": np.array(v) for k, v in self.stepper.get_state().items()})
        return state

    def set_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.online.set_state({k[9:]: v for k, v in state.items() if k.startswith("features/")})
        self.stepper.set_state({k[6:]: v for k, v in state.items() if k.startswith("model/")})
