"""The signal-model contract and the plumbing every model shares (``docs/architecture.md``, "Signal models").

A signal model has the scikit-learn shape:

- hyperparameters are declared once in the class attribute ``hyperparameters`` (:mod:`signalbench.signals.params`);
  the generated keyword-only ``__init__`` checks and stores them and nothing else, so a wrong value is reported when
  the model is made, not minutes into ``fit``. :meth:`SignalModel.get_params` / :meth:`SignalModel.set_params` read
  and change them (checked the same way). A plugin may instead write its own keyword-only ``__init__`` that stores
  its arguments under the same names (then its ``_validate_params`` checks them at ``fit``).
- ``fit(X, y, *, X_val=None, y_val=None, callback=None)`` learns everything (feature scaler, class set, network) from
  the rows it is given and returns ``self``; learned state lives in attributes with a trailing underscore.
- ``predict_proba(X)`` returns ``(n, k)`` class probabilities (columns in the order of ``classes_``); regression
  models have ``predict(X)`` returning ``(n,)`` instead. Predicting never changes the model.
- ``save(path)`` writes a folder with ``model.json`` and ``weights.pt`` (:mod:`signalbench.signals.persistence`);
  :func:`signalbench.signals.load` rebuilds the model from them.

**Rows and windows.** ``X`` is ``(n, F)`` in time order. Output row ``t`` is the prediction made at time ``t`` from
input rows ``t - seq_len + 1 .. t``: rows before the first complete window are NaN, so predictions line up with prices
row by row. Windows are strided views of the (scaled) input (:func:`signalbench.data.windowing.windows`), copied one
batch at a time; an ``(n, seq_len, F)`` array is never built.

**Missing values.** Feature frames are NaN during their warm-up at the start of every day, so NaN in ``X`` is not an
error: an output row whose window contains a NaN is NaN (the model cannot see those rows), and such rows are not
trained on. Rows whose label is NaN are not trained on either (labels past the horizon are NaN); they may still serve
as context for later windows. Infinite values are an error, and so is data that leaves no complete window or no
labelled training row.

**Scaling.** Models that scale their inputs (the neural networks, the logistic baseline) standardize each feature with
the mean and standard deviation of the finite rows of the ``X`` given to ``fit`` (the training rows only: validation
and test data are transformed with them, never fitted on). A model may first transform each row on its own
(:meth:`SignalModel._transform_features`, e.g. DeepLOB's prices relative to the row's mid), before the scaler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from signalbench import _validation as v
from signalbench.signals.errors import ModelFileError, NotFittedError, SignalModelWarning
from signalbench.signals.inputs import as_matrix, as_vector, first_true, valid_window_rows
from signalbench.signals.params import Hyperparameters, Param
from signalbench.signals.persistence import FORMAT, Persistent
from signalbench.signals.stepping import ModelWindow, Stepper, make_stepper

__all__ = [
    "FORMAT",
    "ModelFileError",
    "NotFittedError",
    "SignalModel",
    "SignalModelWarning",
    "balanced_weights",
    "most_probable",
]

# Rows scaled per chunk when converting X to the network's float32 input (bounds the float64 temporaries).
_SCALE_CHUNK = 1 << 16


def most_probable(probs: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``(n,)`` float64: the class of the largest probability per row, NaN where a row is not finite."""
    ok = np.isfinite(probs).all(axis=1)
    labels = np.full(probs.shape[0], np.nan)
    labels[ok] = classes[np.argmax(probs[ok], axis=1)]
    return labels


def balanced_weights(labels: np.ndarray, k: int) -> np.ndarray:
    """``n / (k * count)`` per class index ``0 .. k - 1`` of ``labels`` (0 for a class that does not occur)."""
    counts = np.bincount(labels.astype(np.int64), minlength=k).astype(np.float64)
    return np.where(counts > 0, labels.size / (k * np.maximum(counts, 1)), 0.0)


class SignalModel(Hyperparameters, Persistent):
    """Base class of all signal models: the contract plus validation, scaling, NaN handling and save/load.

    The hyperparameter methods (``get_params``, ``set_params``, ``repr``, the generated ``__init__``) come from
    :class:`~signalbench.signals.params.Hyperparameters`, ``save`` and the rebuild by ``load`` from
    :class:`~signalbench.signals.persistence.Persistent`.

    Subclasses (plugins included) set the class attributes below, declare their ``hyperparameters`` (or write a
    keyword-only ``__init__``), and implement the public hooks :meth:`fit_prepared` and :meth:`predict_prepared` (and,
    when they learn more than the base class saves, :meth:`get_learned_state` / :meth:`set_learned_state` /
    :meth:`learned_state_shapes`). ``examples/plugin/`` is a complete plugin.

    Attributes
    ----------
    name : str
        Registry name (what :func:`signalbench.signals.create` and the saved ``model.json`` call it).
    task : {"classification", "regression"}
        Classifiers have :meth:`predict_proba` and :meth:`predict` (the most probable class); regressors have
        :meth:`predict` (a value per row).
    scale_inputs : bool
        Whether features are standardized with the training rows' mean and standard deviation.
    hyperparameters : mapping of str to Param
        The declared hyperparameters (:mod:`signalbench.signals.params`).
    legacy_defaults : mapping
        Values for hyperparameters that files saved before they existed lack (the behaviour those files had).
    per_symbol_normalisation : bool
        Whether a pooled fit (several symbols) z-scores this model's features per symbol before ``fit``
        (:class:`~signalbench.signals.symbol_scaling.SymbolScaler`). False for models whose inputs are made scale-free
        row by row (the order-book models) and for rules that read a feature's sign.
    stateful : bool
        False: row ``t``'s output reads the window ``t - window + 1 .. t``. True: it reads every row back to the start
        of its run of finite rows (a recurrent state that a non-finite row resets; ``window`` is 1), see
        :meth:`context_start`.
    """

    name: ClassVar[str] = ""
    task: ClassVar[str] = "classification"
    scale_inputs: ClassVar[bool] = True
    hyperparameters: ClassVar[Mapping[str, Param]] = {}
    legacy_defaults: ClassVar[Mapping[str, Any]] = {}
    stateful: ClassVar[bool] = False
    per_symbol_normalisation: ClassVar[bool] = True

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
        """Input rows per prediction: the ``seq_len`` hyperparameter, 1 for a model that has none.

        A hyperparameter is one the class declares (``hyperparameters``) or one of its own keyword-only ``__init__``.
        Part of the contract, with :meth:`context_start` and :meth:`required_features`: the runner, the preflight,
        the audit and walk-forward ask the model for its window (the purge gap, the context rows given to ``fit`` and
        to predictions) instead of deriving it. A model whose window is not ``seq_len`` overrides this.
        """
        return int(self.seq_len) if "seq_len" in self._param_names() else 1

    def context_start(self, X, start: int) -> int:
        """The first row that the outputs of rows ``start, start + 1, ...`` read (their context).

        Predicting ``X[context_start(X, start):stop]`` gives rows ``start .. stop - 1`` exactly as predicting all of
        ``X`` does.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            ``(n, F)`` features (only rows before ``start`` are read).
        start : int
            The first row to predict.

        Returns
        -------
        int
            ``max(0, start - window + 1)`` for window models; for stateful models the first row of the run of finite
            rows that ends at ``start - 1`` (``start`` itself when row ``start - 1`` is not finite, 0 when every row
            before ``start`` is finite).
        """
        start = v.integer(start, "start", minimum=0)
        if not self.stateful:
            return max(0, start - self.window + 1)
        values = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
        bad = np.flatnonzero(~np.isfinite(values[:start]).all(axis=1))
        return int(bad[-1]) + 1 if bad.size else 0

    def stepper(self, mode: str = "window", backend: str = "torch") -> Stepper:
        """The streaming form of :meth:`predict_proba`: one raw feature row at a time (``docs/architecture.md``).

        Stepping the rows of ``X`` in order (with :meth:`Stepper.reset` where a new day starts) gives
        ``predict_proba(X)`` row for row, to 1e-5 (see :mod:`signalbench.signals.stepping`).

        Parameters
        ----------
        mode : {"window", "stateful"}, default "window"
            ``"window"``: the model on a ring buffer of the last ``seq_len`` rows (every window model).
            ``"stateful"``: the recurrent state carried from row to row (models with ``stateful = True``).
        backend : {"torch", "onnxruntime"}, default "torch"
            ``"onnxruntime"`` (neural models, the ``onnx`` extra) runs the exported graph.

        Returns
        -------
        Stepper

        Raises
        ------
        ValueError
            For a ``mode`` the model does not have (the message names ``mode``) or an unknown ``backend``.
        ImportError
            For ``"onnxruntime"`` without the ``onnx`` extra.
        NotFittedError
            Before ``fit``.
        """
        return make_stepper(self, mode, backend)

    def _step_engine(self, mode: str, backend: str):
        """What runs a valid window (window mode) or a finite row (stateful mode) for :class:`Stepper`."""
        return ModelWindow(self)

    def _check_feature_layout(self, n_features: int, names: list[str] | None) -> None:
        """Raise when the features given to ``fit`` do not have the layout the model needs (default: any)."""

    def _transform_features(self, X: np.ndarray) -> np.ndarray:
        """Transform each row on its own, before the scaler (default: unchanged). Must not modify ``X``."""
        return X

    def _forget_derived(self) -> None:
        """Drop the caches derived from the fitted state (the exported ONNX graphs of the steppers)."""
        self.__dict__.pop("_onnx_graphs", None)

    def _row_problem(self):
        """None, or ``problem(x) -> (what was expected, what was found) | None`` for one raw row ``x``.

        The check :meth:`_transform_features` makes of each row, for :class:`~signalbench.signals.stepping.Stepper`:
        it checks every row it is given before storing it, so a bad row is reported as the stepper's argument ``x``
        at its row (both backends; the onnxruntime graph checks nothing). Default: no check.
        """
        return None

    # ------------------------------------------------------------------ the plugin hooks (what a model writes)

    def fit_prepared(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray, val, *, callback=None) -> None:
        """Learn from prepared inputs; every model writes this (:meth:`fit` checks and prepares, then calls it).

        Parameters
        ----------
        X : numpy.ndarray
            ``(n, F)`` float32: the features after :meth:`_transform_features` and the scaler (when
            ``scale_inputs``), NaN replaced by 0 (``stateful`` models keep NaN: it ends a run). Row ``t``'s window is
            ``X[t - window + 1 : t + 1]``.
        y : numpy.ndarray
            ``(n,)`` float64 encoded targets: for classifiers the index into ``classes_`` (0 .. k - 1), for
            regressors the value; NaN where a row has no label.
        rows : numpy.ndarray
            ``(m,)`` int64, increasing: the rows to train on (a complete finite window and a finite label), m >= 2.
        val : tuple or None
            ``(X_val, y_val, rows_val)`` prepared the same way (validation data), or None.
        callback : callable or None
            ``callback(epoch, metrics)`` as given to :meth:`fit`; a model that trains in epochs calls it after each.

        Store what is learned in attributes with a trailing underscore (``table_``, ``net_``). ``classes_``,
        ``n_features_in_``, ``feature_names_in_`` and the scaler are already set.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement fit_prepared(X, y, rows, val, *, callback)")

    def predict_prepared(self, X: np.ndarray, start: int) -> np.ndarray:
        """Outputs of rows ``start .. n - 1`` of prepared ``X``; every model writes this.

        Parameters
        ----------
        X : numpy.ndarray
            ``(n, F)`` float32, prepared as in :meth:`fit_prepared`; rows before ``start`` are context only.
        start : int
            The first row with a complete window (``>= window - 1``).

        Returns
        -------
        numpy.ndarray
            ``(n - start, d)`` float: row ``i`` is the output of row ``start + i``, read from rows
            ``start + i - window + 1 .. start + i`` only (``stateful`` models: from the start of its run);
            ``d = len(classes_)`` probabilities (classifiers, each row summing to 1) or ``d = 1`` value
            (regressors). Rows whose window held a NaN may hold anything: they are set to NaN afterwards. Must not
            change the model.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement predict_prepared(X, start)")

    def get_learned_state(self) -> tuple[dict, dict]:
        """What :meth:`fit_prepared` learned, to save (default: nothing).

        Returns
        -------
        tuple
            ``(meta, tensors)``: a JSON-able dict (saved in ``model.json`` under ``state``) and a dict of name to
            ``torch.Tensor`` (saved in ``weights.pt``, read back with ``weights_only=True``). The scaler, classes and
            feature names are saved by the base class.
        """
        return {}, {}

    def set_learned_state(self, meta: dict, tensors: dict) -> None:
        """Restore what :meth:`get_learned_state` returned (``meta`` from JSON, ``tensors`` on the CPU)."""

    def learned_state_shapes(self) -> dict[str, tuple[int, ...]] | None:
        """The tensors :meth:`set_learned_state` needs, by name and shape, from the hyperparameters and ``classes_``.

        ``load`` checks the saved tensors against it first, so a damaged file is a ``ModelFileError`` naming the
        tensor. None (the default): not checked.
        """
        return None

    def _n_outputs(self) -> int:
        return len(self.classes_) if self.task == "classification" else 1

    def _encode_targets(self, y, n: int, name: str, *, fitting: bool) -> np.ndarray:
        """Targets to what :meth:`fit_prepared` trains on; NaN marks rows without a label (float64 array)."""
        y = as_vector(y, name, n)
        if self.task != "classification":
            return y
        finite = np.isfinite(y)
        if np.any(y[finite] != np.round(y[finite])):
            row = first_true(finite & (y != np.round(np.where(finite, y, 0.0))))
            raise ValueError(v.expected(name, "integer class labels (or NaN)", float(y[row]), at=v.where(row)))
        if fitting:
            classes = np.unique(y[finite])
            if classes.size < 2:
                raise ValueError(
                    v.expected(
                        name, "at least two distinct classes among the labelled rows", f"{classes.tolist()}", raw=True
                    )
                )
            self.classes_ = classes.astype(np.int64)
        idx = np.minimum(np.searchsorted(self.classes_, y[finite]), self.classes_.size - 1)
        unseen = self.classes_[idx] != y[finite]
        if unseen.any():
            bad = np.unique(y[finite][unseen]).astype(np.int64).tolist()
            raise ValueError(
                v.expected(
                    name, f"the classes of the training labels {self.classes_.tolist()}", f"classes {bad}", raw=True
                )
            )
        out = np.full(n, np.nan)
        out[finite] = idx
        return out

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

    def _training_rows(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        valid = valid_window_rows(X, self.window)
        labelled = np.isfinite(y) if y.ndim == 1 else np.isfinite(y).all(axis=1)
        return np.flatnonzero(valid & labelled)

    def _features(self, X, name: str, fitted: tuple[int, list[str] | None] | None):
        """Checked, transformed features and their names; ``fitted`` is ``(F, names)`` to match (None in ``fit``)."""
        X, names = as_matrix(X, name)
        if fitted is None:
            self._check_feature_layout(X.shape[1], names)
        else:
            self._check_columns(X, names, name, *fitted)
        X = self._transform_features(X)
        if X.shape[0] < self.window:
            raise ValueError(
                v.expected(name, f"at least seq_len = {self.window} rows (one complete window)", X.shape[0], raw=True)
            )
        return X, names

    def _fit_scaler(self, X: np.ndarray, rows: np.ndarray) -> None:
        self.scaler_mean_, self.scaler_scale_ = self._scaler_of(X, rows) if self.scale_inputs else (None, None)

    def _scaler_of(self, X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and scale of the finite rows of transformed ``X`` from the first training window to the last row."""
        # Only rows inside some training window: rows after the last labelled one (validation or test rows passed
        # as unlabelled context) must not leak their statistics into the scaler.
        span = X[max(0, int(rows[0]) - self.window + 1) : int(rows[-1]) + 1]
        finite = span[np.isfinite(span).all(axis=1)]
        scale = finite.std(axis=0)
        return finite.mean(axis=0).astype(np.float64), np.where(scale > 0, scale, 1.0).astype(np.float64)

    def scaler_statistics(self, X, labelled) -> tuple[np.ndarray, np.ndarray] | None:
        """The input scaler ``fit(X, y)`` learns when ``y`` is finite exactly at the rows ``labelled``.

        The leakage audit asks this of a fitted model with the rows the pipeline gave it (``fits.json``), so the rule
        lives here only: the mean and standard deviation (0 replaced by 1) of the finite rows of ``X`` (after
        :meth:`_transform_features`) from ``window - 1`` rows before the first training row (a labelled row with a
        complete finite window) to the last one. Nothing is fitted or changed.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            ``(n, F)`` features, as given to ``fit``.
        labelled : array-like of int
            Positions in ``X`` of the rows given a finite label.

        Returns
        -------
        tuple of numpy.ndarray or None
            ``(mean, scale)``, each ``(F,)``; None for a model that does not scale its inputs or when ``X`` holds no
            training row.
        """
        if not self.scale_inputs:
            return None
        X, _ = self._features(X, "X", None)
        y = np.full(X.shape[0], np.nan)
        y[np.asarray(labelled, dtype=np.int64)] = 1.0
        rows = self._training_rows(X, y)
        return self._scaler_of(X, rows) if rows.size else None

    def _validation_part(self, X_val, y_val, fitted: tuple[int, list[str] | None]):
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            missing, given = ("X_val", "y_val") if X_val is None else ("y_val", "X_val")
            raise TypeError(v.expected(missing, f"a value when {given} is given (they go together)", None))
        Xv, _ = self._features(X_val, "X_val", fitted)
        yv = self._encode_targets(y_val, Xv.shape[0], "y_val", fitting=False)
        rows_v = self._training_rows(Xv, yv)
        if rows_v.size == 0:
            raise ValueError(
                v.expected(
                    "X_val, y_val",
                    f"a row with a complete finite window of seq_len={self.window} rows and a finite label",
                    "none",
                    raw=True,
                )
            )
        return self._prepare(Xv), yv, rows_v

    def fit(self, X, y, *, X_val=None, y_val=None, callback=None) -> SignalModel:
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
        callback : callable, optional
            ``callback(epoch, metrics)`` after every training epoch (models trained in epochs; ``epoch`` counts from 1,
            so the last call of a full run has ``epoch == epochs``), with ``metrics`` the epoch's entry of
            ``history_`` (train and validation loss and accuracy, learning rate, seconds). When it is given, no
            progress bar is shown.

        Returns
        -------
        SignalModel
            ``self``, fitted.

        Raises
        ------
        TypeError
            For inputs of the wrong kind (strings, datetimes) or hyperparameters of the wrong kind.
        ValueError
            For bad shapes, infinite values, labels that do not match ``X``, too few rows, or invalid
            hyperparameters; the message names the argument.
        """
        self._validate_params()
        if callback is not None and not callable(callback):
            raise TypeError(v.expected("callback", "a callable callback(epoch, metrics) or None", callback))
        X, names = self._features(X, "X", None)
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)  # refitting starts from scratch
        self._forget_derived()
        y_enc = self._encode_targets(y, X.shape[0], "y", fitting=True)
        rows = self._training_rows(X, y_enc)
        if rows.size < 2:
            raise ValueError(
                v.expected(
                    "X, y",
                    f"at least 2 training rows (a complete finite window of seq_len={self.window} rows and a finite "
                    "label)",
                    rows.size,
                    raw=True,
                )
            )
        self._fit_scaler(X, rows)
        val = self._validation_part(X_val, y_val, (X.shape[1], names))
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = names
        self.fit_prepared(self._prepare(X), y_enc, rows, val, callback=callback)
        return self

    def _check_columns(self, X, names, what, F, fitted_names) -> None:
        if X.shape[1] != F:
            raise ValueError(v.expected(what, f"{F} feature columns (as in fit)", X.shape[1], raw=True))
        if names is not None and fitted_names is not None and names != fitted_names:
            missing = [c for c in fitted_names if c not in names]
            extra = [c for c in names if c not in fitted_names]
            detail = (
                f"missing {missing}, unexpected {extra}" if missing or extra else "the same names in a different order"
            )
            raise ValueError(
                v.expected(
                    f"{what}'s feature names", f"those the model was fitted with {fitted_names}", detail, raw=True
                )
            )

    def _outputs(self, X) -> np.ndarray:
        """``(n, d)`` raw outputs (probabilities or values), NaN where the window is incomplete or has NaN."""
        self._check_fitted()
        X, _ = self._features(X, "X", (self.n_features_in_, self.feature_names_in_))
        valid = valid_window_rows(X, self.window)
        out = np.full((X.shape[0], self._n_outputs()), np.nan)
        if not valid.any():
            v.warn_empty(
                f"X: no row has a complete window of seq_len={self.window} finite rows, so every prediction is NaN",
                stacklevel=4,
            )
            return out
        start = first_true(valid)
        out[start:] = self.predict_prepared(self._prepare(X), start)
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
        if self.task == "classification":
            return most_probable(self.predict_proba(X), self.classes_)
        return self._outputs(X)[:, 0]

    def required_features(self, columns) -> str | None:
        """What this model needs of the feature columns, asked before anything is fitted (``signalbench validate``).

        Parameters
        ----------
        columns : sequence of str
            The names of the feature columns ``fit`` will get, in order.

        Returns
        -------
        str or None
            None when such features serve, else why not, in the message form of :mod:`signalbench._validation`
            (what ``fit`` would raise on them). The default asks the layout check ``fit`` makes
            (:meth:`_check_feature_layout`); a model that needs a particular column (``ofi_sign``: an order-flow
            column) overrides this.
        """
        try:
            self._check_feature_layout(len(columns), list(columns))
        except ValueError as exc:
            return str(exc)
        return None
