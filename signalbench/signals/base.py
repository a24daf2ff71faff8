"""The signal-model contract and the plumbing every model shares.

A signal model has the scikit-learn shape:

- ``__init__`` stores hyperparameters (keyword arguments) and nothing else; :meth:`SignalModel.get_params` reads them
  back from the signature.
- ``fit(X, y, *, X_val=None, y_val=None)`` learns everything (feature scaler, class set, network) from the rows it is
  given and returns ``self``; learned state lives in attributes with a trailing underscore.
- ``predict_proba(X)`` returns ``(n, k)`` class probabilities (columns in the order of ``classes_``); regression
  models have ``predict(X)`` returning ``(n,)`` instead. Predicting never changes the model.
- ``save(path)`` writes a folder with ``model.json`` (hyperparameters, classes, feature names, ``seq_len``, scaler,
  library version, model name) and ``weights.pt`` (a ``state_dict`` of tensors, read back with
  ``torch.load(weights_only=True)``); :func:`signalbench.signals.load` rebuilds the model from them.

**Rows and windows.** ``X`` is ``(n, F)`` in time order. Output row ``t`` is the prediction made at time ``t`` from
input rows ``t - seq_len + 1 .. t``: rows before the first complete window are NaN, so predictions line up with prices
row by row. Windows are strided views of the (scaled) input (:func:`signalbench.data.windows.windows`), copied one
batch at a time; an ``(n, seq_len, F)`` array is never built.

**Missing values.** Feature frames are NaN during their warm-up at the start of every day, so NaN in ``X`` is not an
error: an output row whose window contains a NaN is NaN (the model cannot see those rows), and such rows are not
trained on. Rows whose label is NaN are not trained on either (labels past the horizon are NaN); they may still serve
as context for later windows. Infinite values are an error, and so is data that leaves no complete window or no
labelled training row.

**Scaling.** Models that scale their inputs (the neural networks, the logistic baseline) standardize each feature with
the mean and standard deviation of the finite rows of the ``X`` given to ``fit`` (the training rows only: validation
and test data are transformed with them, never fitted on).
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

__all__ = [
    "FORMAT",
    "NotFittedError",
    "SignalModel",
    "SignalModelWarning",
]

#: Identifier of the save format written into ``model.json``.
FORMAT = "signalbench.signals/1"
_JSON_NAME = "model.json"
_WEIGHTS_NAME = "weights.pt"
# Rows scaled per chunk when converting X to the network's float32 input (bounds the float64 temporaries).
_SCALE_CHUNK = 1 << 16


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit`` (a ``ValueError`` and an ``AttributeError``, as in scikit-learn)."""


def most_probable(probs: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``(n,)`` float64: the class of the largest probability per row, NaN where a row is not finite."""
    ok = np.isfinite(probs).all(axis=1)
    labels = np.full(probs.shape[0], np.nan)
    labels[ok] = classes[np.argmax(probs[ok], axis=1)]
    return labels


class SignalModelWarning(UserWarning):
    """Something about a model is suspicious but not fatal (e.g. a file saved by a newer library version)."""


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _first_true(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _as_matrix(X, name: str) -> tuple[np.ndarray, list[str] | None]:
    """``X`` as a 2-D floating array (not copied when already one) and its column names (None for arrays)."""
    names = None
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            dup = sorted({c for c in names if names.count(c) > 1})
            raise ValueError(f"{name} has duplicate column names {dup}")
        bad = [c for c, dt in zip(names, X.dtypes) if not (pd.api.types.is_numeric_dtype(dt))]
        if bad:
            raise ValueError(f"{name} must be numeric; columns {bad} are not")
        X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    elif isinstance(X, pd.Series):
        raise ValueError(f"{name} must be 2-D (rows, features); got a Series: use series.to_frame()")
    else:
        try:
            X = np.asarray(X)
        except Exception as exc:  # ragged lists and the like
            raise ValueError(f"{name} must be a 2-D numeric array (rows, features): {exc}") from None
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, features), got shape {X.shape}")
    if X.dtype == np.bool_ or np.issubdtype(X.dtype, np.integer):
        X = X.astype(np.float64)
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.shape[1] == 0:
        raise ValueError(f"{name} has no feature columns (shape {X.shape})")
    inf = np.isinf(X)
    if inf.any():
        row, col = np.argwhere(inf)[0]
        where = names[col] if names else f"column {col}"
        raise ValueError(
            f"{name} contains infinite values (first at row {row}, {where}); only NaN marks a missing value"
        )
    return X, names


def _as_vector(y, name: str, n: int) -> np.ndarray:
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one value per row of X, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but X has {n}: one label per row of X is expected")
    if np.isinf(y).any():
        raise ValueError(f"{name} contains infinite values (first at row {_first_true(np.isinf(y))}); use NaN")
    return y


def valid_window_rows(X: np.ndarray, seq_len: int) -> np.ndarray:
    """Boolean mask of the rows whose window ``t - seq_len + 1 .. t`` is complete and all finite.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, F)`` features.
    seq_len : int
        Window length.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool; False for ``t < seq_len - 1`` and wherever the window holds a NaN.
    """
    n = X.shape[0]
    bad = ~np.isfinite(X).all(axis=1)
    count = np.concatenate(([0], np.cumsum(bad, dtype=np.int64)))  # count[t + 1] = bad rows in 0..t
    ok = np.zeros(n, dtype=bool)
    if n >= seq_len:
        t = np.arange(seq_len - 1, n)
        ok[seq_len - 1 :] = count[t + 1] - count[t + 1 - seq_len] == 0
    return ok


class SignalModel:
    """Base class of all signal models: the contract plus validation, scaling, NaN handling and save/load.

    Subclasses set the class attributes below, write an ``__init__`` with keyword-only hyperparameters that stores
    them under the same names, and implement :meth:`_fit` and :meth:`_predict_valid` (and, when they learn more
    than the base class saves, :meth:`_get_state` / :meth:`_set_state`).

    Attributes
    ----------
    name : str
        Registry name (what :func:`signalbench.signals.create` and the saved ``model.json`` call it).
    task : {"classification", "regression"}
        Classifiers have :meth:`predict_proba` and :meth:`predict` (the most probable class); regressors have
        :meth:`predict` (a value per row).
    scale_inputs : bool
        Whether features are standardized with the training rows' mean and standard deviation.
    """

    name: ClassVar[str] = ""
    task: ClassVar[str] = "classification"
    scale_inputs: ClassVar[bool] = True

    # ------------------------------------------------------------------ hyperparameters (scikit-learn style)

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must list its hyperparameters explicitly (no *args/**kw)")
            names.append(p.name)
        return names

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to ``__init__``.

        Returns
        -------
        dict
            Name to value for every ``__init__`` argument.
        """
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> SignalModel:
        """Change hyperparameters (the model must be fitted again for them to take effect).

        Parameters
        ----------
        **params
            Hyperparameters by name.

        Returns
        -------
        SignalModel
            ``self``.

        Raises
        ------
        ValueError
            For a name that is not a hyperparameter of this model (with the closest match suggested).
        """
        from signalbench.signals.registry import unknown_params_error

        valid = self._param_names()
        unknown = [k for k in params if k not in valid]
        if unknown:
            raise unknown_params_error(type(self).__name__, unknown, valid)
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values() if p.name != "self"
        }
        shown = []
        for k, v in self.get_params().items():
            d = defaults.get(k, inspect.Parameter.empty)
            try:
                same = d is not inspect.Parameter.empty and bool(d == v)
            except Exception:  # array-likes
                same = False
            if not same:
                shown.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def example_data(self, n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
        """Random inputs and targets of the shape this model takes (for the conformance suite and examples).

        The default: four standard-normal features ``f0 .. f3`` with some persistence, and targets that depend on
        the current and previous ``f0`` (classes 0/1/2, or a value for regressors). Models that need a particular
        layout (an order book, two targets) override this.

        Parameters
        ----------
        n : int
            Rows.
        seed : int, default 0
            Seed of ``numpy.random.default_rng``.

        Returns
        -------
        tuple
            ``(X, y)``: a DataFrame ``(n, F)`` and the targets ``fit`` expects.
        """
        rng = np.random.default_rng(seed)
        e = rng.standard_normal((n, 4))
        X = np.empty_like(e)
        X[0] = e[0]
        for t in range(1, n):
            X[t] = 0.5 * X[t - 1] + e[t]
        signal = X[:, 0] + 0.5 * np.r_[0.0, X[:-1, 0]] + 0.5 * rng.standard_normal(n)
        if self.task == "classification":
            y = np.where(signal > 0.5, 2.0, np.where(signal < -0.5, 0.0, 1.0))
        else:
            y = 0.1 * signal
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(4)]), y

    # ------------------------------------------------------------------ what subclasses provide

    @property
    def window(self) -> int:
        """Input rows per prediction (``seq_len`` for sequence models, 1 for models of the last row)."""
        return int(getattr(self, "seq_len", 1))

    def _validate_params(self) -> None:
        """Check hyperparameters at the start of ``fit`` (raise ``ValueError`` naming the bad one)."""
        L = getattr(self, "seq_len", 1)
        if not _is_int(L) or L < 1:
            raise ValueError(f"seq_len must be an integer >= 1, got {L!r}")

    def _fit(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray, val) -> None:
        """Learn from scaled ``X`` (float32, NaN replaced by 0) at training ``rows``.

        ``y`` holds encoded targets (class indices for classifiers), ``val`` is ``None`` or a tuple
        ``(X_val, y_val, rows_val)`` prepared the same way.
        """
        raise NotImplementedError

    def _predict_valid(self, X: np.ndarray, start: int) -> np.ndarray:
        """Raw outputs ``(n - start, d)`` for rows ``start .. n - 1`` of prepared ``X`` (invalid rows included)."""
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict]:
        """Learned state beyond what the base class keeps: (JSON-able dict, dict of tensors)."""
        return {}, {}

    def _set_state(self, meta: dict, tensors: dict) -> None:
        """Restore what :meth:`_get_state` returned."""

    def _n_outputs(self) -> int:
        return len(self.classes_) if self.task == "classification" else 1

    def _encode_targets(self, y, n: int, name: str, *, fitting: bool) -> np.ndarray:
        """Targets to what :meth:`_fit` trains on; NaN marks rows without a label (float64 array)."""
        y = _as_vector(y, name, n)
        if self.task == "classification":
            finite = np.isfinite(y)
            if np.any(y[finite] != np.round(y[finite])):
                row = _first_true(finite & (y != np.round(y)))
                raise ValueError(f"{name} must hold integer class labels (or NaN), got {y[row]!r} at row {row}")
            if fitting:
                classes = np.unique(y[finite])
                if classes.size < 2:
                    raise ValueError(
                        f"{name} has {classes.size} distinct class(es) among its labelled rows "
                        f"({classes.tolist()}); a classifier needs at least two"
                    )
                self.classes_ = classes.astype(np.int64)
            idx = np.searchsorted(self.classes_, y[finite])
            idx = np.minimum(idx, self.classes_.size - 1)
            unseen = self.classes_[idx] != y[finite]
            if unseen.any():
                bad = np.unique(y[finite][unseen]).astype(np.int64).tolist()
                raise ValueError(f"{name} has classes {bad} that the training labels {self.classes_.tolist()} lack")
            out = np.full(n, np.nan)
            out[finite] = idx
            return out
        return y

    # ------------------------------------------------------------------ fit / predict plumbing

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(X, y) first")

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        """Scaled float32 copy of ``X`` with NaN set to 0 (rows with NaN are masked out of the output)."""
        out = np.empty(X.shape, dtype=np.float32)
        for lo in range(0, X.shape[0], _SCALE_CHUNK):
            block = X[lo : lo + _SCALE_CHUNK]
            if self.scaler_mean_ is not None:
                block = (block - self.scaler_mean_) / self.scaler_scale_
            out[lo : lo + _SCALE_CHUNK] = np.nan_to_num(block, nan=0.0)
        return out

    def _training_rows(self, X: np.ndarray, y: np.ndarray, name: str) -> np.ndarray:
        valid = valid_window_rows(X, self.window)
        labelled = np.isfinite(y) if y.ndim == 1 else np.isfinite(y).all(axis=1)
        rows = np.flatnonzero(valid & labelled)
        return rows

    def fit(self, X, y, *, X_val=None, y_val=None) -> SignalModel:
        """Learn the scaler, the class set and the model from the training rows.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            ``(n, F)`` features in time order (a DataFrame's column names are remembered and checked when
            predicting). NaN rows (feature warm-up) are allowed: windows containing them are skipped.
        y : array-like
            ``(n,)`` labels aligned with ``X``: the target of row ``t`` (classes for classifiers, values for
            regressors); NaN rows are not trained on but serve as context.
        X_val, y_val : optional
            Validation data (its own context rows included: the first ``seq_len - 1`` rows only feed windows), used
            for early stopping and reported in ``history_``; never used to fit the scaler.

        Returns
        -------
        SignalModel
            ``self``, fitted.

        Raises
        ------
        ValueError
            For bad shapes, infinite values, labels that do not match ``X``, too few rows, or invalid
            hyperparameters; the message names the argument.
        """
        self._validate_params()
        X, names = _as_matrix(X, "X")
        n, F = X.shape
        L = self.window
        if n < L:
            raise ValueError(f"X has {n} rows; at least seq_len = {L} are needed for one complete window")
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)  # refitting starts from scratch
        y_enc = self._encode_targets(y, n, "y", fitting=True)
        rows = self._training_rows(X, y_enc, "y")
        if rows.size < 2:
            raise ValueError(
                f"too few training rows: {rows.size} row(s) of X have a complete finite window of seq_len={L} "
                "rows and a finite label (at least 2 are needed)"
            )
        if self.scale_inputs:
            # Only rows inside some training window: rows after the last labelled one (validation or test rows
            # passed as unlabelled context) must not leak their statistics into the scaler.
            span = X[max(0, int(rows[0]) - L + 1) : int(rows[-1]) + 1]
            finite = np.isfinite(span).all(axis=1)
            mean = span[finite].mean(axis=0)
            scale = span[finite].std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
            self.scaler_mean_ = mean.astype(np.float64)
            self.scaler_scale_ = scale.astype(np.float64)
        else:
            self.scaler_mean_ = None
            self.scaler_scale_ = None
        val = None
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together")
        if X_val is not None:
            Xv, names_v = _as_matrix(X_val, "X_val")
            self._check_columns(Xv, names_v, "X_val", F, names)
            if Xv.shape[0] < L:
                raise ValueError(f"X_val has {Xv.shape[0]} rows; at least seq_len = {L} are needed")
            yv = self._encode_targets(y_val, Xv.shape[0], "y_val", fitting=False)
            rows_v = self._training_rows(Xv, yv, "y_val")
            if rows_v.size == 0:
                raise ValueError(
                    f"X_val/y_val have no row with a complete finite window of seq_len={L} rows and a finite label"
                )
            val = (self._prepare(Xv), yv, rows_v)
        self.n_features_in_ = F
        self.feature_names_in_ = names
        self._fit(self._prepare(X), y_enc, rows, val)
        return self

    def _check_columns(self, X, names, what, F, fitted_names) -> None:
        if X.shape[1] != F:
            raise ValueError(f"{what} has {X.shape[1]} features but the model was fitted with {F}")
        if names is not None and fitted_names is not None and names != fitted_names:
            missing = [c for c in fitted_names if c not in names]
            extra = [c for c in names if c not in fitted_names]
            if missing or extra:
                detail = f"missing {missing}, unexpected {extra}"
            else:
                detail = "same names in a different order"
            raise ValueError(
                f"{what}'s feature names differ from those the model was fitted with ({detail}); "
                f"expected {fitted_names}"
            )

    def _outputs(self, X) -> np.ndarray:
        """``(n, d)`` raw outputs (probabilities or values), NaN where the window is incomplete or has NaN."""
        self._check_fitted()
        X, names = _as_matrix(X, "X")
        self._check_columns(X, names, "X", self.n_features_in_, self.feature_names_in_)
        n = X.shape[0]
        L = self.window
        if n < L:
            raise ValueError(f"X has {n} rows; at least seq_len = {L} are needed for one complete window")
        valid = valid_window_rows(X, L)
        out = np.full((n, self._n_outputs()), np.nan)
        if valid.any():
            start = _first_true(valid)
            out[start:] = self._predict_valid(self._prepare(X), start)
            out[~valid] = np.nan
        return out

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities of every row.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            ``(n, F)`` features in time order, the same features (names and order) as in ``fit``.

        Returns
        -------
        numpy.ndarray
            ``(n, k)`` float64, columns in the order of ``classes_``; row ``t`` uses rows ``t - seq_len + 1 .. t``
            only; NaN for the first ``seq_len - 1`` rows and rows whose window holds a NaN.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            For a different number or names of features, too few rows or infinite values.
        """
        if self.task != "classification":
            raise AttributeError(f"{type(self).__name__} is a regression model: use predict(X)")
        return self._outputs(X)

    def predict(self, X) -> np.ndarray:
        """Point prediction of every row: the most probable class (classifiers) or the value (regressors).

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            ``(n, F)`` features in time order.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` float64 (class labels from ``classes_`` for classifiers), NaN where no prediction is made.
        """
        out = self._outputs(X)
        if self.task == "classification":
            return most_probable(out, self.classes_)
        return out[:, 0]

    # ------------------------------------------------------------------ save / load

    def _config(self) -> dict:
        self._check_fitted()
        params = self.get_params()
        try:
            json.dumps(params)
        except TypeError as exc:
            raise ValueError(
                f"cannot save {type(self).__name__}: a hyperparameter is not JSON-serializable ({exc})"
            ) from None
        meta, _ = self._get_state()
        from signalbench import __version__

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
            "weights": _WEIGHTS_NAME,
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
        _, tensors = self._get_state()
        return {k: v.detach().to("cpu") for k, v in tensors.items()}

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Save the fitted model to the folder ``path`` (``model.json`` and ``weights.pt``).

        Written to a temporary folder next to ``path`` and renamed into place, so ``path`` never holds half a
        model. No pickled objects: the JSON holds hyperparameters and metadata, the weights file a ``state_dict``.

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
        """
        import torch

        config = self._config()
        tensors = self.state_dict()
        path = Path(path)
        if path.exists():
            if not overwrite:
                raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
            if not (path.is_dir() and (path / _JSON_NAME).is_file()):
                raise FileExistsError(f"{path} exists and is not a saved signal model; not replacing it")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            torch.save(tensors, tmp / _WEIGHTS_NAME)
            with open(tmp / _JSON_NAME, "w", encoding="utf-8") as fh:
                json.dump(config, fh, indent=1, allow_nan=True)
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists():
                old = path.with_name(f".{path.name}.{uuid.uuid4().hex}.old")
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return path

    @classmethod
    def _from_saved(cls, config: dict, tensors: dict) -> SignalModel:
        model = cls(**config["params"])
        F = int(config["n_features"])
        model.n_features_in_ = F
        model.feature_names_in_ = config["feature_names"]
        if config.get("classes") is not None:
            model.classes_ = np.asarray(config["classes"], dtype=np.int64)
        scaler = config.get("scaler")
        if scaler is None:
            model.scaler_mean_ = None
            model.scaler_scale_ = None
        else:
            model.scaler_mean_ = np.asarray(scaler["mean"], dtype=np.float64)
            model.scaler_scale_ = np.asarray(scaler["scale"], dtype=np.float64)
        model._set_state(config.get("state") or {}, tensors)
        return model


def load(path) -> SignalModel:
    """Rebuild a model saved with :meth:`SignalModel.save`.

    Parameters
    ----------
    path : str or os.PathLike
        The folder ``save`` wrote.

    Returns
    -------
    SignalModel
        The fitted model (its class found by name in the registry, built-in or plugin).

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ValueError
        If ``model.json`` is not a signalbench model file.
    """
    import torch

    from signalbench import __version__
    from signalbench.signals.registry import get

    path = Path(path)
    meta_path = path / _JSON_NAME
    if not meta_path.is_file():
        raise FileNotFoundError(f"no saved signal model at {path} (expected {meta_path})")
    with open(meta_path, encoding="utf-8") as fh:
        try:
            config = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{meta_path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{meta_path} is not a signalbench signal model (format {FORMAT!r} expected)")
    saved = str(config.get("library_version", "?"))
    if _version_tuple(saved) > _version_tuple(__version__):
        warnings.warn(
            f"{path} was saved by signalbench {saved}, newer than this {__version__}",
            SignalModelWarning,
            stacklevel=2,
        )
    weights = path / config.get("weights", _WEIGHTS_NAME)
    if not weights.is_file():
        raise FileNotFoundError(f"{path} has no weights file {weights.name}")
    tensors = torch.load(weights, map_location="cpu", weights_only=True)
    cls = get(config["model"])
    return cls._from_saved(config, tensors)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


# ---------------------------------------------------------------------------------------------------------------------
# Checks of hyperparameters (used in ``_validate_params``)
# ---------------------------------------------------------------------------------------------------------------------


def check_int(model, name: str, minimum: int, *, none_ok: bool = False) -> None:
    """Raise ``ValueError`` unless ``model.<name>`` is an integer >= ``minimum`` (or None when allowed)."""
    v = getattr(model, name)
    if v is None and none_ok:
        return
    if not _is_int(v) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{' or None' if none_ok else ''}, got {v!r}")


def check_float(model, name: str, low: float, high: float, *, low_open=False, high_open=False) -> None:
    """Raise ``ValueError`` unless ``model.<name>`` is a real number in the given interval."""
    v = getattr(model, name)
    ok = isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) and np.isfinite(v)
    if ok:
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {v!r}")


def check_choice(model, name: str, choices) -> None:
    """Raise ``ValueError`` unless ``model.<name>`` is one of ``choices``."""
    v = getattr(model, name)
    if v not in tuple(choices):
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {v!r}")


# ---------------------------------------------------------------------------------------------------------------------
# Neural models: shared fit / batched inference / state
# ---------------------------------------------------------------------------------------------------------------------


class TorchSignalModel(SignalModel):
    """A signal model whose learned state is one ``torch.nn.Module``, trained by :func:`training.train`.

    Subclasses implement :meth:`_net_config` (a config dataclass of :mod:`signalbench.signals.nets`) and
    :meth:`_build_net`, and keep the training hyperparameters ``seq_len, epochs, batch_size, lr, weight_decay,
    clip_grad_norm, patience, lr_patience, class_weight, seed, device, progress, predict_batch_size``.

    Fitting seeds ``torch`` (inside ``torch.random.fork_rng``, leaving the caller's generator alone) before the network
    is built and trained, so two fits with one ``seed`` on the CPU give identical weights. Prediction runs the network
    in ``eval()`` mode under ``torch.inference_mode()``, ``predict_batch_size`` windows at a time, on ``device``
    (``"auto"``: CUDA when available, else CPU), and returns NumPy.
    """

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int(self, "seq_len", 1)
        check_int(self, "predict_batch_size", 1)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        cw = self.class_weight
        if self.task == "classification" and not (cw is None or cw == "balanced" or isinstance(cw, (list, tuple))):
            raise ValueError(f"class_weight must be None, 'balanced' or a list of per-class weights, got {cw!r}")
        self._train_config().validate()
        from signalbench.signals.training import resolve_device

        resolve_device(self.device)

    def _train_config(self):
        from signalbench.signals.training import TrainConfig

        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            clip_grad_norm=self.clip_grad_norm,
            patience=self.patience,
            lr_patience=self.lr_patience,
            progress=self.progress,
        )

    def _net_config(self):
        raise NotImplementedError

    @staticmethod
    def _build_net(config):
        raise NotImplementedError

    def _class_weights(self, y: np.ndarray, rows: np.ndarray):
        import torch

        k = len(self.classes_)
        cw = self.class_weight
        if cw is None:
            return None
        if cw == "balanced":
            counts = np.bincount(y[rows].astype(np.int64), minlength=k).astype(np.float64)
            w = np.where(counts > 0, rows.size / (k * np.maximum(counts, 1)), 0.0)
        else:
            w = np.asarray(cw, dtype=np.float64)
            if w.shape != (k,) or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(
                    f"class_weight must hold {k} non-negative weights, one per class {self.classes_.tolist()}, "
                    f"got {cw!r}"
                )
        return torch.tensor(w, dtype=torch.float32)

    def _criterion(self, y: np.ndarray, rows: np.ndarray):
        from signalbench.signals.training import classification_loss, regression_loss

        if self.task == "classification":
            return classification_loss(self._class_weights(y, rows))
        return regression_loss()

    def _training_targets(self, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Targets as the loss sees them (float32); regressors standardize with the training rows' statistics."""
        if self.task == "regression":
            mu = float(np.mean(y[rows]))
            sd = float(np.std(y[rows]))
            self.target_mean_ = mu
            self.target_scale_ = sd if sd > 0 else 1.0
            return ((y - mu) / self.target_scale_).astype(np.float32)
        return y.astype(np.float32)

    def _fit(self, X, y, rows, val) -> None:
        import torch

        from signalbench.signals.training import resolve_device, train

        device = resolve_device(self.device)
        targets = self._training_targets(y, rows)
        criterion = self._criterion(y, rows)
        if val is not None:
            Xv, yv, rows_v = val
            val = (Xv, self._apply_target_transform(yv), rows_v)
        config = self._net_config()
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(int(self.seed))
            net = self._build_net(config).to(device)
            history = train(
                net,
                X=X,
                targets=targets,
                rows=rows,
                seq_len=self.window,
                criterion=criterion,
                config=self._train_config(),
                seed=int(self.seed),
                device=device,
                val=val,
                description=self.name,
            )
        net.eval()
        self.net_ = net
        self.net_config_ = config
        self.history_ = history
        self.device_ = device

    def _apply_target_transform(self, y: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return ((y - self.target_mean_) / self.target_scale_).astype(np.float32)
        return y.astype(np.float32)

    def _transform_output(self, out):
        """Network output batch -> returned values (softmax for classifiers, unstandardized for regressors)."""
        import torch

        if self.task == "classification":
            return torch.softmax(out.double(), dim=1)
        return out.double() * self.target_scale_ + self.target_mean_

    def _predict_valid(self, X: np.ndarray, start: int) -> np.ndarray:
        import torch

        from signalbench.data.windowing import iter_batches

        net = self.net_
        if net.training:  # never the case after fit or load; kept as a guard without mutating the model
            raise RuntimeError("network is in training mode")
        outs = []
        with torch.inference_mode():
            for xb in iter_batches(X, self.window, int(self.predict_batch_size), start=start, device=self.device_):
                outs.append(self._transform_output(net(xb)).cpu().numpy())  # (B, d)
                del xb
        return np.concatenate(outs, axis=0)

    def _get_state(self) -> tuple[dict, dict]:
        from dataclasses import asdict

        meta = {"net_config": asdict(self.net_config_), "history": self.history_}
        if self.task == "regression" or hasattr(self, "target_mean_"):
            meta["target"] = {"mean": self.target_mean_, "scale": self.target_scale_}
        return meta, dict(self.net_.state_dict())

    def _set_state(self, meta: dict, tensors: dict) -> None:
        from signalbench.signals.training import resolve_device

        config = self._config_class()(**meta["net_config"])
        net = self._build_net(config)
        net.load_state_dict(tensors, strict=True)
        self.device_ = resolve_device(self.device)
        self.net_ = net.to(self.device_).eval()
        self.net_config_ = config
        self.history_ = meta.get("history", [])
        if "target" in meta:
            self.target_mean_ = float(meta["target"]["mean"])
            self.target_scale_ = float(meta["target"]["scale"])

    @classmethod
    def _config_class(cls):
        raise NotImplementedError

    def export_onnx(self, path, *, opset: int = 17) -> Path:
        """Export the fitted network, with the feature scaling and the output transform, to an ONNX file.

        The graph takes raw windows ``(batch, seq_len, F)`` float32 (the rows ``t - seq_len + 1 .. t`` of ``X``, no
        NaN) and returns what :meth:`predict_proba` (classifiers: probabilities) or :meth:`predict` (regressors)
        returns for row ``t``, as float32. Needs the ``onnx`` extra. Written to a temporary file, then renamed.

        Parameters
        ----------
        path : str or os.PathLike
            Output ``.onnx`` file.
        opset : int, default 17
            ONNX opset.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        from signalbench.signals.onnx import export_onnx

        return export_onnx(self, path, opset=opset)
