"""The saved-model format: a folder with ``model.json`` and ``weights.pt``, written atomically, read with checks.

``model.json`` holds the format tag, the model's registry name, the library version, the hyperparameters, the number
and names of the features, ``seq_len``, the classes, the feature scaler and the model's own JSON state (for the neural
models the network's configuration and the training history). ``weights.pt`` is a ``state_dict``: a dict of named
tensors written by ``torch.save`` and read with ``torch.load(weights_only=True)``; nothing is pickled.

Writing goes through :func:`signalbench._atomic.atomic_dir`: the folder is built under a temporary name and swapped
into place, so after any interruption ``path`` holds the old model or the new one (``docs/architecture.md``).
Reading first undoes a replace that a crash cut short (:func:`signalbench._atomic.recover_dir`), then checks every
key of ``model.json`` and the weights file: a corrupted, truncated or mismatched file is a
:class:`~signalbench.signals.errors.ModelFileError` naming the file, the key, what was expected and what was found,
never an error from deep inside torch or ``json``. The public reader, which also finds the model class by name, is
:func:`signalbench.signals.load`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from signalbench import __version__
from signalbench import _validation as v
from signalbench._atomic import atomic_dir, recover_dir, write_error
from signalbench.signals.errors import ModelFileError, SignalModelWarning

__all__ = [
    "FORMAT",
    "JSON_NAME",
    "WEIGHTS_NAME",
    "Persistent",
    "SavedModel",
    "check_tensors",
    "read_model",
    "write_model",
]

#: Identifier of the save format written into ``model.json``.
FORMAT = "signalbench.signals/1"
JSON_NAME = "model.json"
WEIGHTS_NAME = "weights.pt"


@dataclass(frozen=True)
class SavedModel:
    """What :func:`read_model` found: the folder, the checked ``model.json`` and the tensors of ``weights.pt``."""

    path: Path
    config: dict
    tensors: dict

    @property
    def json_path(self) -> Path:
        """The ``model.json`` file."""
        return self.path / JSON_NAME

    @property
    def weights_path(self) -> Path:
        """The weights file."""
        return self.path / self.config.get("weights", WEIGHTS_NAME)


# ---------------------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------------------


def write_model(path: str | os.PathLike, config: dict, tensors: dict, *, overwrite: bool) -> Path:
    """Write ``config`` to ``model.json`` and ``tensors`` to ``weights.pt`` in the folder ``path``, atomically.

    ``path`` ends up holding the old folder or the new one, never neither (see :meth:`Persistent.save`, which calls
    this, for the arguments and errors).
    """
    import torch

    path = Path(path)
    recover_dir(path)
    if os.path.lexists(path):
        if not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        if not (path.is_dir() and (path / JSON_NAME).is_file()):
            raise FileExistsError(f"{path} exists and is not a saved signal model; not replacing it")
    existed = os.path.lexists(path)
    try:
        with atomic_dir(path, overwrite=overwrite) as tmp:
            torch.save(tensors, tmp / WEIGHTS_NAME)
            with open(tmp / JSON_NAME, "w", encoding="utf-8") as fh:
                json.dump(config, fh, indent=1, allow_nan=True)
    except FileExistsError:
        raise
    except (OSError, RuntimeError) as exc:  # torch's writer on a full disk: "[enforce fail at inline_container.cc...]"
        raise write_error(path, exc, existed) from exc
    return path


# ---------------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------------


def _file_name(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(v.expected(name, "a file name", value))
    if Path(value).name != value or value in ("", ".", ".."):
        raise ValueError(v.expected(name, "a file name inside the model folder", value))
    return value


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, name: None if value is None else check(value, name)


def _list_of(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def run(value: Any, name: str) -> list:
        if not isinstance(value, list):
            raise TypeError(v.expected(name, "a list", value))
        return [check(item, f"{name}[{i}]") for i, item in enumerate(value)]

    return run


def _kind(kind: type, text: str) -> Callable[[Any, str], Any]:
    def run(value: Any, name: str) -> Any:
        if not isinstance(value, kind):
            raise TypeError(v.expected(name, text, value))
        return value

    return run


def _integer(minimum: int | None = None) -> Callable[[Any, str], Any]:
    return lambda value, name: v.integer(value, name, minimum=minimum)


def _finite(value: Any, name: str) -> float:
    return v.number(value, name)


# key -> (required, check); a check raises TypeError/ValueError in the library's message form
_KEYS: dict[str, tuple[bool, Callable[[Any, str], Any]]] = {
    "format": (True, _kind(str, "a format tag (str)")),
    "model": (True, _kind(str, "a model name (str)")),
    "params": (True, _kind(dict, "a dict of hyperparameters")),
    "n_features": (True, _integer(1)),
    "feature_names": (True, _optional(_list_of(_kind(str, "a feature name (str)")))),
    "seq_len": (True, _integer(1)),
    "classes": (True, _optional(_list_of(_integer()))),
    "scaler": (True, _optional(_kind(dict, "a dict with 'mean' and 'scale'"))),
    "state": (False, _kind(dict, "a dict")),
    "weights": (False, _file_name),
    "library_version": (False, _kind(str, "a version (str)")),
}


def _check_config(config: Any, source: Path) -> dict:
    """Every key of ``model.json`` checked; the first problem is a ModelFileError naming the file and key."""
    if not isinstance(config, dict):
        raise ModelFileError(v.expected(str(source), "a JSON object (a signalbench model file)", config))
    if config.get("format") != FORMAT:
        raise ModelFileError(
            v.expected(f"{source} key 'format'", f"{FORMAT!r} (a signalbench signal model)", config.get("format"))
        )
    for key, (required, check) in _KEYS.items():
        if key not in config:
            if required:
                raise ModelFileError(v.expected(str(source), f"a key {key!r}", "none", raw=True))
            continue
        try:
            check(config[key], f"{source} key {key!r}")
        except (TypeError, ValueError) as exc:
            raise ModelFileError(str(exc)) from None
    _check_sizes(config, source)
    return config


def _check_sizes(config: dict, source: Path) -> None:
    F = config["n_features"]
    names = config["feature_names"]
    if names is not None and len(names) != F:
        raise ModelFileError(
            v.expected(f"{source} key 'feature_names'", f"{F} names (n_features)", f"{len(names)}", raw=True)
        )
    scaler = config["scaler"]
    if scaler is None:
        return
    for part in ("mean", "scale"):
        name = f"{source} key 'scaler.{part}'"
        try:
            values = _list_of(_finite)(scaler.get(part), name)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(str(exc)) from None
        if len(values) != F:
            raise ModelFileError(v.expected(name, f"{F} values (n_features)", f"{len(values)}", raw=True))


def _read_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (ValueError, RecursionError) as exc:  # JSON and UTF-8 errors; a 5,000-digit number; nesting too deep
        found = f"unreadable JSON ({type(exc).__name__}: {str(exc)[:120]})"
        raise ModelFileError(v.expected(str(path), "a JSON model file", found, raw=True)) from None
    return _check_config(config, path)


def _read_weights(path: Path) -> dict:
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"{path.parent} has no weights file {path.name}")
    try:
        tensors = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # zip reader, unpickler, EOF, ...: all mean "not a readable state_dict"
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ModelFileError(
            v.expected(
                str(path),
                "a state_dict written by torch.save (a zip archive of named tensors)",
                f"an unreadable file ({type(exc).__name__}: {detail})",
                raw=True,
                hint="the file is truncated or corrupted: save the model again",
            )
        ) from exc
    if not isinstance(tensors, dict) or not all(
        isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in tensors.items()
    ):
        raise ModelFileError(v.expected(str(path), "a dict of named tensors", type(tensors).__name__, raw=True))
    return tensors


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def read_model(path: str | os.PathLike) -> SavedModel:
    """Read and check a model folder written by :func:`write_model`.

    Parameters
    ----------
    path : str or os.PathLike
        The folder.

    Returns
    -------
    SavedModel
        The checked ``model.json`` and the tensors.

    Raises
    ------
    FileNotFoundError
        If the folder, ``model.json`` or the weights file is missing.
    ModelFileError
        If a file is corrupted, truncated or not a signalbench model, or a key holds the wrong kind of value.
    """
    path = Path(path)
    recover_dir(path)
    meta_path = path / JSON_NAME
    if not meta_path.is_file():
        raise FileNotFoundError(f"no saved signal model at {path} (expected {meta_path})")
    config = _read_json(meta_path)
    saved = str(config.get("library_version", "?"))
    if _version_tuple(saved) > _version_tuple(__version__):
        warnings.warn(
            f"{path} was saved by signalbench {saved}, newer than this {__version__}", SignalModelWarning, stacklevel=3
        )
    weights = path / config.get("weights", WEIGHTS_NAME)
    return SavedModel(path, config, _read_weights(weights))


def check_tensors(found: Mapping[str, Any], shapes: Mapping[str, tuple[int, ...]], source: Path) -> None:
    """``ModelFileError`` unless ``found`` holds exactly the tensors named in ``shapes``, with those shapes.

    Parameters
    ----------
    found : mapping of str to torch.Tensor
        What the weights file holds.
    shapes : mapping of str to tuple of int
        What the model that ``model.json`` describes needs.
    source : pathlib.Path
        The weights file (for the message).
    """
    missing = [k for k in shapes if k not in found]
    extra = [k for k in found if k not in shapes]
    if missing or extra:
        raise ModelFileError(
            v.expected(
                str(source),
                f"the {len(shapes)} tensors of the model that model.json describes",
                f"missing {missing[:4]}{' ...' if len(missing) > 4 else ''}, "
                f"unexpected {extra[:4]}{' ...' if len(extra) > 4 else ''}",
                raw=True,
                hint="the weights belong to another model or architecture",
            )
        )
    for key, shape in shapes.items():
        got = tuple(found[key].shape)
        if got != tuple(shape):
            raise ModelFileError(
                v.expected(
                    f"{source}[{key!r}]",
                    f"a tensor of shape {tuple(shape)} (from the hyperparameters in model.json)",
                    f"shape {got}",
                    raw=True,
                    hint="the weights belong to another architecture, or model.json was edited",
                )
            )


class Persistent:
    """The save/load half of :class:`~signalbench.signals.base.SignalModel`.

    ``save``, ``state_dict`` and the rebuild from a checked :class:`SavedModel`; the model's own learned state passes
    through its ``get_learned_state`` / ``set_learned_state``, checked first against ``learned_state_shapes``.
    """

    legacy_defaults: ClassVar[Mapping[str, Any]] = {}

    def _config(self) -> dict:
        self._check_fitted()
        params = self.get_params()
        try:
            json.dumps(params)
        except TypeError as exc:
            raise ValueError(
                v.expected("hyperparameters", "JSON-serializable values to save", f"{exc}", raw=True)
            ) from None
        meta, _ = self.get_learned_state()
        return {
            "format": FORMAT,
            "model": self.name,
            "library_version": __version__,
            "params": params,
            "n_features": int(self.n_features_in_),
            "feature_names": self.feature_names_in_,
            "seq_len": self.window,
            "classes": self._classes_json(),
            "scaler": None
            if self.scaler_mean_ is None
            else {"mean": self.scaler_mean_.tolist(), "scale": self.scaler_scale_.tolist()},
            "state": meta,
            "weights": WEIGHTS_NAME,
        }

    def _classes_json(self):
        return self.classes_.tolist() if self.task == "classification" else None

    def state_dict(self) -> dict:
        """The learned tensors (what ``weights.pt`` holds).

        Returns
        -------
        dict of str to torch.Tensor
            CPU tensors.
        """
        self._check_fitted()
        _, tensors = self.get_learned_state()
        return {k: t.detach().to("cpu") for k, t in tensors.items()}

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Save the fitted model to the folder ``path`` (``model.json`` and ``weights.pt``).

        Written to a temporary folder next to ``path`` and swapped into place in one step
        (:func:`signalbench._atomic.atomic_dir`): after any interruption ``path`` holds the old model or the new one,
        never half of one and never neither. No pickled objects: the JSON holds hyperparameters and metadata, the
        weights file a ``state_dict``.

        Parameters
        ----------
        path : str or os.PathLike
            Folder to create.
        overwrite : bool, default False
            Replace an existing model folder at ``path``.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False (or it exists and is not a saved model).
        NotFittedError
            Before ``fit``.
        OSError
            When the folder cannot be written (a full disk, no permission): the message names ``path`` and says that
            the old model there (if any) is intact, as it is.
        """
        overwrite = v.boolean(overwrite, "overwrite")
        return write_model(path, self._config(), self.state_dict(), overwrite=overwrite)

    @classmethod
    def _from_saved(cls, saved: SavedModel, device: Any = None) -> Persistent:
        """Rebuild a fitted model from a checked :class:`SavedModel`, on ``device`` (a ``torch.device``; None: CPU).

        The state is restored on the CPU (:meth:`set_learned_state`), then moved by :meth:`_place`.
        """
        config = saved.config
        params = {**{k: d for k, d in cls.legacy_defaults.items() if k not in config["params"]}, **config["params"]}
        try:
            model = cls(**params)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{saved.json_path} key 'params': {exc}") from None
        model._restore_learned(saved)
        model._check_saved_state(saved)
        try:
            model.set_learned_state(config.get("state") or {}, saved.tensors)
        except ModelFileError:
            raise
        except (KeyError, IndexError, RuntimeError, TypeError, ValueError) as exc:
            raise ModelFileError(
                v.expected(str(saved.weights_path), f"the learned state of a {cls.name!r} model", f"{exc!r}", raw=True)
            ) from exc
        if device is not None:
            model._place(device)
        return model

    def _place(self, device: Any) -> None:
        """Move the loaded model's learned state to ``device`` (a checked ``torch.device``); no-op by default."""

    def _restore_learned(self, saved: SavedModel) -> None:
        config, source = saved.config, saved.json_path
        if config["seq_len"] != self.window:
            raise ModelFileError(
                v.expected(f"{source} key 'seq_len'", f"{self.window} (from the hyperparameters)", config["seq_len"])
            )
        self.n_features_in_ = config["n_features"]
        self.feature_names_in_ = config["feature_names"]
        classes = config["classes"]
        if self.task == "classification":
            if classes is None or len(classes) < 2 or sorted(set(classes)) != classes:
                raise ModelFileError(
                    v.expected(f"{source} key 'classes'", "at least two sorted, distinct class labels", classes)
                )
            self.classes_ = np.asarray(classes, dtype=np.int64)
        scaler = config["scaler"]
        if (scaler is None) == self.scale_inputs:
            what = "a feature scaler" if self.scale_inputs else "no feature scaler"
            raise ModelFileError(v.expected(f"{source} key 'scaler'", f"{what} ({self.name})", scaler))
        self.scaler_mean_ = None if scaler is None else np.asarray(scaler["mean"], dtype=np.float64)
        self.scaler_scale_ = None if scaler is None else np.asarray(scaler["scale"], dtype=np.float64)

    def _check_saved_state(self, saved: SavedModel) -> None:
        """Check the saved tensors against :meth:`learned_state_shapes` before :meth:`set_learned_state` reads them."""
        shapes = self.learned_state_shapes()
        if shapes is not None:
            check_tensors(saved.tensors, shapes, saved.weights_path)
