"""Baselines: no model is reported without them.

- ``majority``: the class frequencies of the training rows (``predict`` gives the most frequent class).
- ``persistence``: the last observed move continues: up if the last return is above ``threshold``, down if below
  ``-threshold``, stationary otherwise (one-hot probabilities).
- ``ofi_sign``: the sign of an order-flow-imbalance feature: buying pressure up, selling pressure down, none
  stationary (one-hot).
- ``logistic``: multinomial logistic regression on the last row's (standardized) features, L2-penalized, fitted by
  L-BFGS in float64 with torch (deterministic, no extra dependency).
- ``lightgbm``: gradient-boosted trees on the last row's features, behind the optional ``lightgbm`` extra
  (``pip install signalbench[lightgbm]``).

``persistence`` and ``ofi_sign`` predict the direction classes of :func:`signalbench.data.labels.direction`
(0 down, 1 stationary, 2 up), so their training labels must be exactly those three classes. All baselines read one row
(``window == 1``) and use the same validation, NaN handling and save format as the neural models; their
hyperparameters are declared like theirs (:mod:`signalbench.signals.params`) and checked when the model is made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench import _validation as v
from signalbench.signals.base import SignalModel, balanced_weights
from signalbench.signals.params import Choice, Float, Int, Param, Rule, declare

__all__ = ["LightGBMModel", "LogisticModel", "MajorityModel", "OFISignModel", "PersistenceModel"]


class MajorityModel(SignalModel):
    """The training rows' class frequencies for every row; ``predict`` is the most frequent training class.

    The frequencies are those of the rows ``fit`` trains on (finite label, finite features).
    """

    name = "majority"
    task = "classification"
    scale_inputs = False
    hyperparameters = declare()

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """See :meth:`SignalModel.fit_prepared`: the class frequencies of the training rows."""
        counts = np.bincount(y[rows].astype(np.int64), minlength=len(self.classes_)).astype(np.float64)
        self.class_prior_ = counts / counts.sum()

    def predict_prepared(self, X, start):
        """See :meth:`SignalModel.predict_prepared`: the training frequencies on every row."""
        return np.tile(self.class_prior_, (X.shape[0] - start, 1))

    def get_learned_state(self):
        """See :meth:`SignalModel.get_learned_state`: the class prior ``(k,)``."""
        import torch

        return {}, {"class_prior": torch.from_numpy(self.class_prior_.copy())}

    def set_learned_state(self, meta, tensors):
        """See :meth:`SignalModel.set_learned_state`."""
        self.class_prior_ = tensors["class_prior"].numpy().astype(np.float64)

    def learned_state_shapes(self):
        """See :meth:`SignalModel.learned_state_shapes`."""
        return {"class_prior": (len(self.classes_),)}


def _column(value: Any, name: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    return v.integer(value, name, minimum=0, what="a feature name (str), a column index >= 0 or None")


SIGN_RULE = {
    "column": Param(
        None, Rule(_column, "str, int or None"), "The feature (name or index); None finds it by name (see above)."
    ),
    "threshold": Param(0.0, Float(low=0.0), "Values within [-threshold, threshold] predict stationary."),
}


class _SignRule(SignalModel):
    """One-hot direction from the sign of one feature column (found by name when ``column`` is None)."""

    task = "classification"
    scale_inputs = False
    per_symbol_normalisation = False  # a shifted mean would change the sign it reads
    _candidates: tuple[str, ...] = ()
    _what = ""
    _article = "a"

    def _resolve_column(self) -> int:
        return self._find_column(self.feature_names_in_, int(self.n_features_in_))

    def _find_column(self, names: list[str] | None, n_features: int) -> int:
        """The index of the rule's column among ``n_features`` columns named ``names`` (None: unnamed)."""
        c = self.column
        if c is None:
            if names is None:
                raise TypeError(
                    v.expected("column", f"the name or index of the {self._what} feature", None, hint="X has no names")
                )
            found = [n for n in self._candidates if n in names]
            found += [n for n in names if any(n.startswith(p) for p in self._candidates)]
            if not found:
                raise ValueError(
                    v.expected(
                        "X",
                        f"{self._article} {self._what} column named {' or '.join(self._candidates)}",
                        f"the features {names}",
                        raw=True,
                        hint="pass column=<name or index>",
                    )
                )
            return names.index(found[0])
        if isinstance(c, str):
            if names is None:
                raise ValueError(v.expected("column", "a column index (X has no column names)", c))
            return names.index(v.choice(c, "column", names))
        return v.integer(c, "column", minimum=0, maximum=n_features - 1)

    def required_features(self, columns) -> str | None:
        """Why features named ``columns`` lack this rule's column (None when they have it): see ``column``."""
        try:
            self._find_column(list(columns), len(columns))
        except (TypeError, ValueError) as exc:
            return str(exc)
        return None

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """See :meth:`SignalModel.fit_prepared`: the column the sign is read from."""
        if self.classes_.tolist() != [0, 1, 2]:
            raise ValueError(
                v.expected(
                    "y",
                    f"the direction classes 0 (down), 1 (stationary), 2 (up) that {self.name} predicts",
                    f"classes {self.classes_.tolist()}",
                    raw=True,
                    hint="use signalbench.data.labels.direction",
                )
            )
        self.column_index_ = self._resolve_column()

    def predict_prepared(self, X, start):
        """See :meth:`SignalModel.predict_prepared`: one-hot ``(n - start, 3)`` from the sign."""
        x = X[start:, self.column_index_].astype(np.float64)
        cls = np.where(x > self.threshold, 2, np.where(x < -self.threshold, 0, 1))
        out = np.zeros((x.size, 3))
        out[np.arange(x.size), cls] = 1.0
        return out

    def get_learned_state(self):
        """See :meth:`SignalModel.get_learned_state`: the column index."""
        return {"column_index": int(self.column_index_)}, {}

    def set_learned_state(self, meta, tensors):
        """See :meth:`SignalModel.set_learned_state`."""
        self.column_index_ = v.integer(
            meta["column_index"], "state.column_index", minimum=0, maximum=int(self.n_features_in_) - 1
        )

    def learned_state_shapes(self):
        """See :meth:`SignalModel.learned_state_shapes`."""
        return {}


class PersistenceModel(_SignRule):
    """The last observed move continues: class of the sign of the last one-row return.

    With ``column=None`` the return feature is ``mid_ret_1`` or ``return_1`` (the one-row returns of the feature sets
    ``lob_basic`` and the price/volume set), or the first column whose name starts with one of those. Set
    ``threshold`` to the label's stationary threshold.
    """

    name = "persistence"
    _candidates = ("mid_ret_1", "return_1")
    _what = "one-row return"
    hyperparameters = declare(SIGN_RULE)


class OFISignModel(_SignRule):
    """Order-flow imbalance sign: up when the OFI feature is positive, down when negative, stationary at zero.

    With ``column=None`` the feature is ``ofi_l1_sum_10`` or ``ofi_sum_10`` (feature set ``lob_basic``), or the first
    column whose name starts with ``ofi``.
    """

    name = "ofi_sign"
    _candidates = ("ofi_l1_sum_10", "ofi_sum_10", "ofi")
    _what = "order-flow imbalance"
    _article = "an"
    hyperparameters = declare(SIGN_RULE)


class LogisticModel(SignalModel):
    """Multinomial logistic regression on the last row's standardized features.

    Minimizes the mean cross-entropy plus ``alpha / 2 * ||W||^2`` (the bias is not penalized) with full-batch L-BFGS
    in float64 (torch), starting from zero weights: a convex problem with a unique, deterministic solution.
    """

    name = "logistic"
    task = "classification"
    scale_inputs = True
    hyperparameters = declare(
        {
            "alpha": Param(1e-4, Float(low=0.0), "L2 penalty on the weights."),
            "max_iter": Param(200, Int(minimum=1), "L-BFGS iterations."),
            "class_weight": Param(None, Choice((None, "balanced")), "Per-class weights of the loss."),
        }
    )

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """See :meth:`SignalModel.fit_prepared`: L-BFGS on the training rows."""
        import torch

        k = len(self.classes_)
        xt = torch.from_numpy(X[rows].astype(np.float64))  # (m, F)
        yt = torch.from_numpy(y[rows].astype(np.int64))  # (m,)
        weight = None
        if self.class_weight == "balanced":
            weight = torch.from_numpy(balanced_weights(y[rows], k))
        W = torch.zeros(X.shape[1], k, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS(
            [W, b],
            lr=1.0,
            max_iter=int(self.max_iter),
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )
        alpha = float(self.alpha)

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(xt @ W + b, yt, weight=weight) + 0.5 * alpha * (W * W).sum()
            loss.backward()
            return loss

        opt.step(closure)
        self.coef_ = W.detach().numpy().copy()  # (F, k)
        self.intercept_ = b.detach().numpy().copy()  # (k,)

    def predict_prepared(self, X, start):
        """See :meth:`SignalModel.predict_prepared`: the softmax of the linear scores."""
        z = X[start:].astype(np.float64) @ self.coef_ + self.intercept_  # (m, k)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def get_learned_state(self):
        """See :meth:`SignalModel.get_learned_state`: ``coef`` ``(F, k)`` and ``intercept`` ``(k,)``."""
        import torch

        return {}, {"coef": torch.from_numpy(self.coef_.copy()), "intercept": torch.from_numpy(self.intercept_.copy())}

    def set_learned_state(self, meta, tensors):
        """See :meth:`SignalModel.set_learned_state`."""
        self.coef_ = tensors["coef"].numpy().astype(np.float64)
        self.intercept_ = tensors["intercept"].numpy().astype(np.float64)

    def learned_state_shapes(self):
        """See :meth:`SignalModel.learned_state_shapes`."""
        k = len(self.classes_)
        return {"coef": (int(self.n_features_in_), k), "intercept": (k,)}


_UNIT = Float(low=0.0, high=1.0, low_open=True)

LIGHTGBM = {
    "n_estimators": Param(300, Int(minimum=1), "Maximum boosting rounds."),
    "learning_rate": Param(0.05, Float(low=0.0, low_open=True), "Shrinkage."),
    "num_leaves": Param(31, Int(minimum=2), "Leaves per tree."),
    "min_child_samples": Param(20, Int(minimum=1), "Minimum rows per leaf."),
    "subsample": Param(1.0, _UNIT, "Row fraction per round (bagging every round when < 1)."),
    "colsample_bytree": Param(1.0, _UNIT, "Feature fraction per tree."),
    "reg_lambda": Param(0.0, Float(low=0.0), "L2 regularization of leaf values."),
    "early_stopping_rounds": Param(30, Int(minimum=1), "Patience on the validation loss (with validation data only)."),
    "seed": Param(0, Int(minimum=0), "LightGBM's seed."),
    "n_jobs": Param(1, Int(minimum=1), "Threads (results are reproducible for a fixed value)."),
}


class LightGBMModel(SignalModel):
    """Gradient-boosted trees on the last row's features, multiclass objective.

    Needs the optional ``lightgbm`` extra. Trained with ``deterministic=True`` and a fixed number of threads, so one
    seed gives one model. With validation data, boosting stops after ``early_stopping_rounds`` rounds without a lower
    validation log-loss and the best iteration is kept. The booster is saved as its text model (bytes in the
    ``state_dict``), never pickled.
    """

    name = "lightgbm"
    task = "classification"
    scale_inputs = False
    hyperparameters = declare(LIGHTGBM)

    @staticmethod
    def _lgb():
        try:
            import lightgbm
        except ImportError as exc:
            raise ImportError(
                "the 'lightgbm' signal model needs LightGBM: pip install 'signalbench[lightgbm]'"
            ) from exc
        return lightgbm

    def _params(self) -> dict:
        return {
            "objective": "multiclass",
            "num_class": len(self.classes_),
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_data_in_leaf": int(self.min_child_samples),
            "bagging_fraction": float(self.subsample),
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": float(self.colsample_bytree),
            "lambda_l2": float(self.reg_lambda),
            "seed": int(self.seed),
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": int(self.n_jobs),
            "verbosity": -1,
        }

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """See :meth:`SignalModel.fit_prepared`: boosted trees on the training rows."""
        lgb = self._lgb()
        train_set = lgb.Dataset(X[rows], label=y[rows].astype(np.int64), free_raw_data=True)
        callbacks = []
        valid_sets = []
        if val is not None:
            Xv, yv, rows_v = val
            valid_sets = [lgb.Dataset(Xv[rows_v], label=yv[rows_v].astype(np.int64), reference=train_set)]
            callbacks.append(lgb.early_stopping(int(self.early_stopping_rounds), verbose=False))
        booster = lgb.train(
            self._params(),
            train_set,
            num_boost_round=int(self.n_estimators),
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.booster_ = booster

    def predict_prepared(self, X, start):
        """See :meth:`SignalModel.predict_prepared`: the booster's class probabilities."""
        p = self.booster_.predict(X[start:], num_iteration=self.best_iteration_)
        return np.asarray(p, dtype=np.float64).reshape(X.shape[0] - start, len(self.classes_))

    def get_learned_state(self):
        """See :meth:`SignalModel.get_learned_state`: the booster as text bytes."""
        import torch

        text = self.booster_.model_to_string(num_iteration=self.best_iteration_).encode("utf-8")
        return {"best_iteration": self.best_iteration_}, {
            "booster": torch.frombuffer(bytearray(text), dtype=torch.uint8)
        }

    def set_learned_state(self, meta, tensors):
        """See :meth:`SignalModel.set_learned_state`."""
        lgb = self._lgb()
        text = bytes(tensors["booster"].numpy().tobytes()).decode("utf-8")
        try:
            self.booster_ = lgb.Booster(model_str=text)
        except lgb.basic.LightGBMError as exc:
            raise ValueError(v.expected("booster", "a LightGBM text model", f"{exc}", raw=True)) from None
        self.best_iteration_ = v.integer(meta["best_iteration"], "state.best_iteration", minimum=0)
