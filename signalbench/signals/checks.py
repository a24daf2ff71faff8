"""The conformance suite every signal model passes, built-in or plugin.

:func:`check_signal_model` runs all checks and raises ``AssertionError`` naming the first that fails;
:func:`signal_model_checks` returns them one by one, for ``pytest.mark.parametrize``::

    from signalbench.signals.checks import check_signal_model, signal_model_checks

    def test_my_model():
        check_signal_model(lambda: MyModel(seq_len=5, epochs=1))

    @pytest.mark.parametrize("check", signal_model_checks(lambda: MyModel(seq_len=5)), ids=lambda c: c.name)
    def test_each(check):
        check()

``factory`` is a zero-argument callable returning a fresh, unfitted model (keep it tiny: a few hundred rows are fitted
three times). Data comes from the model's own :meth:`~signalbench.signals.base.SignalModel.example_data`, so models
with particular inputs (an order book, two targets) generate what they need. The checks:

- ``init_params``: ``__init__`` stores hyperparameters only (``get_params`` round-trips, no learned attribute); a
  model with declared hyperparameters rejects a value of the wrong kind for each of them when it is made
  (``TypeError``) and an unknown name (``ValueError``);
- ``not_fitted``: predicting or saving before ``fit`` raises ``NotFittedError``;
- ``output``: ``fit`` returns ``self``; output shape ``(n, k)`` (``(n,)`` for regressors); the first ``window - 1``
  rows NaN and the rest finite; probabilities in [0, 1] summing to 1; ``predict`` gives classes from ``classes_``;
- ``batch_invariance``: predicting pieces with their context (:meth:`SignalModel.context_start`: ``window - 1`` rows,
  or a stateful model's run), or with other inference batch sizes, equals predicting at once (catches dropout or
  batch norm left in training mode);
- ``causality``: changing the rows after ``t`` leaves rows ``<= t`` unchanged;
- ``nan_rows``: a NaN row blanks exactly the outputs whose window contains it and changes no other row (a stateful
  model: blanks its own row, and the rows after it equal a fresh start there); fitting on data with NaN rows works;
- ``determinism``: two fits with the same hyperparameters (seed) give the same predictions, and refitting an instance
  gives what a fresh fit gives;
- ``save_load``: ``save`` then :func:`signalbench.signals.load` gives the same class, hyperparameters and predictions
  (``load`` finds the class by its ``name``: a plugin is installed with its entry point, or registered in this process
  with :func:`signalbench.signals.register` before the check);
  the folder holds ``model.json`` and a ``weights.pt`` that ``torch.load(weights_only=True)`` reads; saving onto an
  existing path needs ``overwrite=True``;
- ``no_mutation``: predicting changes neither the model nor the input; fitting does not change ``X`` or ``y``;
- ``errors``: clear ``ValueError`` for wrong widths or feature names, non-2-D input, infinite values, too few rows,
  labels of the wrong length and data with no usable row.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from signalbench.signals.base import SignalModel
from signalbench.signals.errors import NotFittedError
from signalbench.signals.registry import HOW_TO_REGISTER, available, get, load

__all__ = ["Check", "check_signal_model", "signal_model_checks"]

ATOL = 1e-6  # float32 networks: results may differ in the last bits between batch shapes


class Check:
    """One named check, callable without arguments (raises ``AssertionError`` on failure)."""

    def __init__(self, name: str, fn: Callable[[], None]):
        self.name = name
        self._fn = fn

    def __call__(self) -> None:
        """Run the check."""
        try:
            self._fn()
        except AssertionError as exc:
            raise AssertionError(f"check_signal_model[{self.name}]: {exc}") from exc

    def __repr__(self) -> str:
        return f"Check({self.name!r})"


class _Context:
    """Data and one fitted model, built on first use and shared by the checks."""

    def __init__(self, factory, n: int, seed: int):
        self.factory = factory
        self.n = n
        self.seed = seed

    def new(self) -> SignalModel:
        model = self.factory()
        assert isinstance(model, SignalModel), f"factory() returned {type(model).__name__}, not a SignalModel"
        return model

    @functools.cached_property
    def data(self):
        X, y = self.new().example_data(self.n, self.seed)
        return X, y

    @functools.cached_property
    def fitted(self) -> SignalModel:
        X, y = self.data
        model = self.new()
        out = model.fit(X, y)
        assert out is model, "fit must return self"
        return model

    @functools.cached_property
    def reference(self) -> np.ndarray:
        return output(self.fitted, self.data[0])


def output(model: SignalModel, X) -> np.ndarray:
    """What the model predicts: ``predict_proba`` for classifiers, ``predict`` for regressors."""
    return model.predict_proba(X) if model.task == "classification" else model.predict(X)


def _close(a, b, what: str, atol: float = ATOL) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes differ {a.shape} vs {b.shape}"
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        where = (nan_a != nan_b).any(axis=-1) if a.ndim > 1 else nan_a != nan_b
        raise AssertionError(f"{what}: NaN at different places (rows {np.flatnonzero(where)[:5].tolist()})")
    diff = np.abs(np.where(nan_a, 0.0, a - b))
    assert diff.max(initial=0.0) <= atol, f"{what}: differ by up to {diff.max():.3g} (tolerance {atol})"


def _raises(fn, exc_type, what: str, match: str | None = None) -> None:
    names = " or ".join(t.__name__ for t in exc_type) if isinstance(exc_type, tuple) else exc_type.__name__
    try:
        fn()
    except exc_type as exc:
        if match is not None:
            assert match.lower() in str(exc).lower(), f"{what}: error message {str(exc)!r} does not mention {match!r}"
        return
    except Exception as exc:  # noqa: BLE001 - the wrong exception type is a failure to report
        raise AssertionError(f"{what}: raised {type(exc).__name__}({exc}) instead of {names}") from exc
    raise AssertionError(f"{what}: no {names} raised")


def _rows_of(X, rows):
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def _with_values(X, values: np.ndarray):
    return pd.DataFrame(values, columns=X.columns, index=X.index) if isinstance(X, pd.DataFrame) else values


def _values(X) -> np.ndarray:
    return X.to_numpy(dtype=np.float64, copy=True) if isinstance(X, pd.DataFrame) else np.array(X, dtype=np.float64)


def _snapshot(model: SignalModel):
    params = json.dumps(model.get_params(), sort_keys=True, default=repr)
    tensors = {k: v.clone() for k, v in model.state_dict().items()}
    learned = {k: repr(v) for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}
    return params, tensors, learned


# ------------------------------------------------------------------------------------------------------- the checks


def _check_init_params(ctx: _Context) -> None:
    model = ctx.new()
    assert isinstance(model.name, str) and model.name, "the class must set a non-empty name"
    assert model.task in ("classification", "regression"), f"task must be classification/regression, not {model.task}"
    params = model.get_params()
    learned = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert not learned, f"__init__ must store hyperparameters only, found learned attributes {learned}"
    clone = type(model)(**params)
    assert json.dumps(clone.get_params(), default=repr) == json.dumps(params, default=repr), (
        "type(model)(**model.get_params()) must have the same hyperparameters"
    )
    if model.name in available():
        assert get(model.name) is type(model), f"the registry's {model.name!r} is {get(model.name)}, not {type(model)}"
    if type(model)._declared():
        for name in params:
            _raises(
                lambda n=name: type(model)(**{n: object()}), TypeError, f"making the model with {name}=object()", name
            )
    _raises(lambda: type(model)(**{"__no_such_parameter__": 1}), (ValueError, TypeError), "an unknown hyperparameter")


def _check_not_fitted(ctx: _Context) -> None:
    X, _ = ctx.data
    model = ctx.new()
    _raises(lambda: output(model, X), NotFittedError, "predicting before fit")
    with tempfile.TemporaryDirectory() as tmp:
        _raises(lambda: model.save(Path(tmp) / "m"), NotFittedError, "saving before fit")


def _check_output(ctx: _Context) -> None:
    X, _ = ctx.data
    model = ctx.fitted
    out = ctx.reference
    n, L = len(X), model.window
    assert L >= 1 and model.n_features_in_ == X.shape[1], "window / n_features_in_ inconsistent with the data"
    if model.task == "classification":
        k = len(model.classes_)
        assert out.shape == (n, k), f"predict_proba shape {out.shape}, expected ({n}, {k})"
        assert np.all(np.diff(model.classes_) > 0), "classes_ must be sorted and unique"
    else:
        assert out.shape == (n,), f"predict shape {out.shape}, expected ({n},)"
    assert out.dtype == np.float64, f"outputs must be float64, got {out.dtype}"
    assert np.isnan(out[: L - 1]).all(), f"the first window - 1 = {L - 1} rows must be NaN (incomplete window)"
    assert np.isfinite(out[L - 1 :]).all(), "rows with a complete finite window must be finite"
    if model.task == "classification":
        p = out[L - 1 :]
        assert (p >= 0).all() and (p <= 1).all(), "probabilities must lie in [0, 1]"
        _close(p.sum(axis=1), np.ones(p.shape[0]), "row sums of predict_proba", atol=1e-6)
        labels = model.predict(X)
        assert np.isnan(labels[: L - 1]).all(), "predict must be NaN where predict_proba is"
        assert np.isin(labels[L - 1 :], model.classes_).all(), "predict must return labels from classes_"
        assert np.array_equal(labels[L - 1 :], model.classes_[np.argmax(p, axis=1)]), "predict must be the argmax"


def _check_batch_invariance(ctx: _Context) -> None:
    X, _ = ctx.data
    model = ctx.fitted
    ref = ctx.reference
    n, L = len(X), model.window
    # pieces with the context their rows read (window - 1 rows; a stateful model's run before them)
    size = max(L + 3, n // 5)
    pieces = []
    lo = 0
    while lo < n:
        hi = min(n, lo + size)
        ctx_lo = model.context_start(X, lo)
        part = output(model, _rows_of(X, slice(ctx_lo, hi)))
        pieces.append(part[lo - ctx_lo :])
        if hi == n:
            break
        lo = hi
    _close(np.concatenate(pieces, axis=0), ref, "predicting in pieces with their context vs at once")
    if "predict_batch_size" in model.get_params():
        old = model.predict_batch_size
        try:
            for bs in (1, 7):
                model.predict_batch_size = bs
                _close(output(model, X), ref, f"predict_batch_size={bs} vs {old}")
        finally:
            model.predict_batch_size = old


def _check_causality(ctx: _Context) -> None:
    X, _ = ctx.data
    model = ctx.fitted
    ref = ctx.reference
    values = _values(X)
    rng = np.random.default_rng(ctx.seed + 99)
    n = len(X)
    for t in (model.window - 1, n // 2, n - 2):
        changed = values.copy()
        changed[t + 1 :] = changed[t + 1 :][::-1] + rng.standard_normal(changed[t + 1 :].shape) * np.nanstd(values, 0)
        out = output(model, _with_values(X, changed))
        _close(out[: t + 1], ref[: t + 1], f"rows <= {t} after changing rows > {t}")


def _check_nan_rows(ctx: _Context) -> None:
    X, y = ctx.data
    model = ctx.fitted
    ref = ctx.reference
    n, L = len(X), model.window
    r = n // 3
    values = _values(X)
    values[r, 0] = np.nan
    out = output(model, _with_values(X, values))
    blank = np.zeros(n, dtype=bool)
    blank[r : r + L] = True
    assert np.isnan(out[blank]).all(), f"rows {r}..{r + L - 1} (windows containing the NaN row {r}) must be NaN"
    if model.stateful:  # the state restarts after the NaN row: the rows after it are predicted as if data began there
        assert model.context_start(values, r + 1) == r + 1, "context_start must not reach back past a NaN row"
        _close(out[:r], ref[:r], "rows before the NaN row")
        _close(out[r + 1 :], output(model, _rows_of(X, slice(r + 1, n))), "rows after the NaN row vs a fresh start")
    else:
        _close(out[~blank], ref[~blank], "rows whose window has no NaN")
    refit = ctx.new().fit(_with_values(X, values), y)
    out2 = output(refit, X)
    assert np.isfinite(out2[L - 1 :]).all(), "a model fitted on data with a NaN row must predict finite values"


def _check_determinism(ctx: _Context) -> None:
    X, y = ctx.data
    ref = ctx.reference
    other = ctx.new().fit(X, y)
    _close(output(other, X), ref, "two fits with the same seed", atol=1e-12)
    again = ctx.new().fit(*ctx.new().example_data(ctx.n, ctx.seed + 1))
    again.fit(X, y)
    _close(output(again, X), ref, "refitting an instance vs a fresh fit", atol=1e-12)


def _check_save_load(ctx: _Context) -> None:
    import torch

    X, _ = ctx.data
    model = ctx.fitted
    try:
        get(model.name)
    except ValueError:
        raise AssertionError(f"load cannot find a model named {model.name!r}: {HOW_TO_REGISTER}") from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        returned = model.save(path)
        assert Path(returned) == path, "save must return the path"
        files = sorted(p.name for p in path.iterdir())
        assert files == ["model.json", "weights.pt"], f"saved folder holds {files}"
        meta = json.loads((path / "model.json").read_text())
        for key in ("model", "library_version", "params", "feature_names", "seq_len", "scaler", "n_features"):
            assert key in meta, f"model.json lacks {key!r}"
        assert meta["model"] == model.name and meta["seq_len"] == model.window
        torch.load(path / "weights.pt", weights_only=True)
        loaded = load(path)
        assert type(loaded) is type(model), f"load gave {type(loaded).__name__}"
        assert json.dumps(loaded.get_params(), sort_keys=True) == json.dumps(
            json.loads(json.dumps(model.get_params())), sort_keys=True
        ), "hyperparameters differ after load"
        _close(output(loaded, X), ctx.reference, "predictions after save/load", atol=0.0)
        if getattr(model, "feature_names_in_", None) is not None:
            assert loaded.feature_names_in_ == model.feature_names_in_, "feature names differ after load"
        _raises(lambda: model.save(path), FileExistsError, "saving onto an existing path without overwrite")
        model.save(path, overwrite=True)
        _close(output(load(path), X), ctx.reference, "predictions after overwrite", atol=0.0)
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["model"], "save left temporary files behind"


def _check_no_mutation(ctx: _Context) -> None:
    X, y = ctx.new().example_data(ctx.n, ctx.seed)  # fresh: the earlier checks may have altered ctx.data already
    model = ctx.fitted
    before = _snapshot(model)
    X_before = _values(X)
    output(model, X)
    model.predict(X)
    after = _snapshot(model)
    assert before[0] == after[0], "predicting changed the hyperparameters"
    assert before[1].keys() == after[1].keys(), "predicting changed the state_dict keys"
    for k in before[1]:
        assert before[1][k].equal(after[1][k]), f"predicting changed the tensor {k!r}"
    assert before[2] == after[2], "predicting changed a learned attribute"
    np.testing.assert_array_equal(_values(X), X_before, err_msg="predicting modified X")
    Xc, yc = _values(X), np.array(y, dtype=np.float64, copy=True)
    ctx.new().fit(X, y)
    np.testing.assert_array_equal(_values(X), Xc, err_msg="fit modified X")
    np.testing.assert_array_equal(np.asarray(y, dtype=np.float64), yc, err_msg="fit modified y")


def _check_errors(ctx: _Context) -> None:
    X, y = ctx.data
    model = ctx.fitted
    n, L = len(X), model.window
    values = _values(X)
    if X.shape[1] > 1:
        _raises(lambda: output(model, values[:, :-1]), ValueError, "predicting with one feature fewer", "feature")
    _raises(lambda: output(model, np.hstack([values, values[:, :1]])), ValueError, "one feature more", "feature")
    if isinstance(X, pd.DataFrame):
        renamed = X.rename(columns={X.columns[0]: "__not_a_feature__"})
        _raises(lambda: output(model, renamed), ValueError, "predicting with other feature names", "feature names")
        if X.shape[1] > 1:
            swapped = X[[X.columns[1], X.columns[0], *X.columns[2:]]]
            _raises(lambda: output(model, swapped), ValueError, "predicting with reordered features", "order")
    _raises(lambda: output(model, values[None]), ValueError, "3-D input", "2-D")
    _raises(lambda: output(model, values[:, 0]), ValueError, "1-D input", "2-D")
    bad = values.copy()
    bad[n // 2, 0] = np.inf
    _raises(lambda: output(model, bad), ValueError, "infinite input", "infinite")
    _raises(lambda: output(model, values[: L - 1]), ValueError, f"predicting {L - 1} rows with window {L}", "rows")
    y_arr = np.asarray(y, dtype=np.float64)
    _raises(lambda: ctx.new().fit(X, y_arr[:-1]), ValueError, "fit with one label too few", "rows")
    _raises(lambda: ctx.new().fit(np.full_like(values, np.nan), y), ValueError, "fit on all-NaN X", "rows")
    few = slice(0, L)  # one complete window: a single training row
    _raises(lambda: ctx.new().fit(_rows_of(X, few), y_arr[few]), ValueError, "fit with one usable row", "rows")


_CHECKS = (
    ("init_params", _check_init_params),
    ("not_fitted", _check_not_fitted),
    ("output", _check_output),
    ("batch_invariance", _check_batch_invariance),
    ("causality", _check_causality),
    ("nan_rows", _check_nan_rows),
    ("determinism", _check_determinism),
    ("save_load", _check_save_load),
    ("no_mutation", _check_no_mutation),
    ("errors", _check_errors),
)


def signal_model_checks(factory: Callable[[], SignalModel], *, n: int = 240, seed: int = 0) -> list[Check]:
    """The conformance checks for the models ``factory`` makes, as separate callables sharing one fitted model.

    Parameters
    ----------
    factory : callable
        ``factory()`` returns a fresh, unfitted model.
    n : int, default 240
        Rows of example data.
    seed : int, default 0
        Seed of the example data.

    Returns
    -------
    list of Check
        Each has a ``name`` and raises ``AssertionError`` when the model fails it.
    """
    ctx = _Context(factory, n, seed)
    return [Check(name, functools.partial(fn, ctx)) for name, fn in _CHECKS]


def check_signal_model(factory: Callable[[], SignalModel], *, n: int = 240, seed: int = 0) -> None:
    """Run the whole conformance suite on the models ``factory`` makes.

    Parameters
    ----------
    factory : callable
        ``factory()`` returns a fresh, unfitted model (tiny settings keep this fast).
    n : int, default 240
        Rows of example data (:meth:`SignalModel.example_data`).
    seed : int, default 0
        Seed of the example data.

    Raises
    ------
    AssertionError
        Naming the first check that fails and why.
    """
    for check in signal_model_checks(factory, n=n, seed=seed):
        check()
