"""Baselines: no model is reported without them.

- ``majority``: the class frequencies of the training rows (``predict`` gives the most frequent class).
- ``persistence``: the last observed move continues: up if the last return is above ``threshold``, down if below
  ``-threshold``, stationary otherwise (one-hot probabilities).
- ``ofi_sign``: the sign of an order-flow-imbalance feature: buying pressure up, selling pressure down, none
  stationary (one-hot).
- ``logistic``: multinomial logistic regression on the last row's (standardized) features, L2-penalized, fitted by
  L-BFGS in float64 with torch (deterministic, no extra dependency).
- ``lightgbm``: gradient-boosted trees on the last row's features (seed 003's tabular model), behind the optional
  ``lightgbm`` extra (``pip install signalbench[lightgbm]``).

``persistence`` and ``ofi_sign`` predict the direction classes of :func:`signalbench.data.labels.direction`
(0 down, 1 stationary, 2 up), so their training labels must be exactly those three classes. All baselines read one row
(``window == 1``) and use the same validation, NaN handling and save format as the neural models.
"""

from __future__ import annotations

import numpy as np

from signalbench.signals.base import SignalModel, check_float, check_int

__all__ = ["LightGBMModel", "LogisticModel", "MajorityModel", "OFISignModel", "PersistenceModel"]


class MajorityModel(SignalModel):
    """The training rows' class frequencies for every row; ``predict`` is the most frequent training class.

    No parameters. The frequencies are those of the rows ``fit`` trains on (finite label, finite features).
    """

    name = "majority"
    task = "classification"
    scale_inputs = False

    def __init__(self):
        pass

    def _fit(self, X, y, rows, val) -> None:
        counts = np.bincount(y[rows].astype(np.int64), minlength=len(self.classes_)).astype(np.float64)
        self.class_prior_ = counts / counts.sum()

    def _predict_valid(self, X, start):
        return np.tile(self.class_prior_, (X.shape[0] - start, 1))

    def _get_state(self):
        import torch

        return {}, {"class_prior": torch.from_numpy(self.class_prior_.copy())}

    def _set_state(self, meta, tensors):
        self.class_prior_ = tensors["class_prior"].numpy().astype(np.float64)


class _SignRule(SignalModel):
    """One-hot direction from the sign of one feature column (found by name when ``column`` is None)."""

    task = "classification"
    scale_inputs = False
    _candidates: tuple[str, ...] = ()
    _what = ""

    def _validate_params(self) -> None:
        super()._validate_params()
        check_float(self, "threshold", 0.0, float("inf"), high_open=True)
        c = self.column
        if not (c is None or isinstance(c, str) or (isinstance(c, (int, np.integer)) and not isinstance(c, bool))):
            raise ValueError(f"column must be a feature name, a column index or None, got {c!r}")

    def _resolve_column(self) -> int:
        names = self.feature_names_in_
        F = int(self.n_features_in_)
        c = self.column
        if c is None:
            if names is None:
                raise ValueError(
                    f"{self.name}: X has no column names, so column must be given (the index of the {self._what})"
                )
            for cand in self._candidates:
                if cand in names:
                    return names.index(cand)
            prefixed = [n for n in names if any(n.startswith(p) for p in self._candidates)]
            if prefixed:
                return names.index(prefixed[0])
            raise ValueError(
                f"{self.name}: no {self._what} column among the features {names}; expected one of "
                f"{list(self._candidates)} or pass column=<name or index>"
            )
        if isinstance(c, str):
            if names is None or c not in names:
                raise ValueError(f"{self.name}: column {c!r} is not among the features {names}")
            return names.index(c)
        if not 0 <= int(c) < F:
            raise ValueError(f"{self.name}: column index {c} is out of range for {F} features")
        return int(c)

    def _fit(self, X, y, rows, val) -> None:
        if self.classes_.tolist() != [0, 1, 2]:
            raise ValueError(
                f"{self.name} predicts the direction classes 0 (down), 1 (stationary), 2 (up) of "
                f"signalbench.data.labels.direction; the training labels have classes {self.classes_.tolist()}"
            )
        self.column_index_ = self._resolve_column()

    def _predict_valid(self, X, start):
        x = X[start:, self.column_index_].astype(np.float64)
        cls = np.where(x > self.threshold, 2, np.where(x < -self.threshold, 0, 1))
        out = np.zeros((x.size, 3))
        out[np.arange(x.size), cls] = 1.0
        return out

    def _get_state(self):
        return {"column_index": int(self.column_index_)}, {}

    def _set_state(self, meta, tensors):
        self.column_index_ = int(meta["column_index"])


class PersistenceModel(_SignRule):
    """The last observed move continues: class of the sign of the last one-row return.

    Parameters
    ----------
    column : str, int or None, default None
        The return feature (name or index); None finds ``mid_ret_1`` or ``return_1`` (feature sets ``lob_basic`` and
        ``seed000``) or the first column starting with those names.
    threshold : float, default 0.0
        Returns within ``[-threshold, threshold]`` count as no move (stationary). Use the label's threshold.
    """

    name = "persistence"
    _candidates = ("mid_ret_1", "return_1")
    _what = "one-row return"

    def __init__(self, *, column=None, threshold: float = 0.0):
        self.column = column
        self.threshold = threshold


class OFISignModel(_SignRule):
    """Order-flow imbalance sign: up when the OFI feature is positive, down when negative, stationary at zero.

    Parameters
    ----------
    column : str, int or None, default None
        The OFI feature; None finds ``ofi_l1_sum_10`` or ``ofi_sum_10`` (feature set ``lob_basic``) or the first
        column starting with ``ofi``.
    threshold : float, default 0.0
        Values within ``[-threshold, threshold]`` predict stationary.
    """

    name = "ofi_sign"
    _candidates = ("ofi_l1_sum_10", "ofi_sum_10", "ofi")
    _what = "order-flow imbalance"

    def __init__(self, *, column=None, threshold: float = 0.0):
        self.column = column
        self.threshold = threshold


class LogisticModel(SignalModel):
    """Multinomial logistic regression on the last row's standardized features.

    Minimizes the mean cross-entropy plus ``alpha / 2 * ||W||^2`` (the bias is not penalized) with full-batch L-BFGS
    in float64 (torch), starting from zero weights: a convex problem with a unique, deterministic solution.

    Parameters
    ----------
    alpha : float, default 1e-4
        L2 penalty on the weights.
    max_iter : int, default 200
        L-BFGS iterations.
    class_weight : None or "balanced", default None
        Per-class weights of the loss.
    """

    name = "logistic"
    task = "classification"
    scale_inputs = True

    def __init__(self, *, alpha: float = 1e-4, max_iter: int = 200, class_weight=None):
        self.alpha = alpha
        self.max_iter = max_iter
        self.class_weight = class_weight

    def _validate_params(self) -> None:
        super()._validate_params()
        check_float(self, "alpha", 0.0, float("inf"), high_open=True)
        check_int(self, "max_iter", 1)
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")

    def _fit(self, X, y, rows, val) -> None:
        import torch

        k = len(self.classes_)
        xt = torch.from_numpy(X[rows].astype(np.float64))  # (m, F)
        yt = torch.from_numpy(y[rows].astype(np.int64))  # (m,)
        weight = None
        if self.class_weight == "balanced":
            counts = np.bincount(y[rows].astype(np.int64), minlength=k).astype(np.float64)
            weight = torch.from_numpy(np.where(counts > 0, rows.size / (k * np.maximum(counts, 1)), 0.0))
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

    def _predict_valid(self, X, start):
        z = X[start:].astype(np.float64) @ self.coef_ + self.intercept_  # (m, k)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def _get_state(self):
        import torch

        return {}, {"coef": torch.from_numpy(self.coef_.copy()), "intercept": torch.from_numpy(self.intercept_.copy())}

    def _set_state(self, meta, tensors):
        self.coef_ = tensors["coef"].numpy().astype(np.float64)
        self.intercept_ = tensors["intercept"].numpy().astype(np.float64)


class LightGBMModel(SignalModel):
    """Gradient-boosted trees on the last row's features (seed 003), multiclass objective.

    Needs the optional ``lightgbm`` extra. Trained with ``deterministic=True`` and a fixed number of threads, so one
    seed gives one model. With validation data, boosting stops after ``early_stopping_rounds`` rounds without a lower
    validation log-loss and the best iteration is kept. The booster is saved as its text model (bytes in the
    ``state_dict``), never pickled.

    Parameters
    ----------
    n_estimators : int, default 300
        Maximum boosting rounds.
    learning_rate : float, default 0.05
        Shrinkage.
    num_leaves : int, default 31
        Leaves per tree.
    min_child_samples : int, default 20
        Minimum rows per leaf.
    subsample : float, default 1.0
        Row fraction per round (bagging every round when < 1).
    colsample_bytree : float, default 1.0
        Feature fraction per tree.
    reg_lambda : float, default 0.0
        L2 regularization of leaf values.
    early_stopping_rounds : int, default 30
        Patience on the validation loss (used only with validation data).
    seed : int, default 0
        LightGBM's seed.
    n_jobs : int, default 1
        Threads (results are reproducible for a fixed value).
    """

    name = "lightgbm"
    task = "classification"
    scale_inputs = False

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        early_stopping_rounds: int = 30,
        seed: int = 0,
        n_jobs: int = 1,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.seed = seed
        self.n_jobs = n_jobs

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int(self, "n_estimators", 1)
        check_int(self, "num_leaves", 2)
        check_int(self, "min_child_samples", 1)
        check_int(self, "early_stopping_rounds", 1)
        check_int(self, "n_jobs", 1)
        check_int(self, "seed", 0)
        check_float(self, "learning_rate", 0.0, float("inf"), low_open=True, high_open=True)
        check_float(self, "subsample", 0.0, 1.0, low_open=True)
        check_float(self, "colsample_bytree", 0.0, 1.0, low_open=True)
        check_float(self, "reg_lambda", 0.0, float("inf"), high_open=True)

    @staticmethod
    def _lgb():
        try:
            import lightgbm
        except ImportError as exc:
            raise ImportError(
                "the 'lightgbm' signal model needs LightGBM: pip install 'signalbench[lightgbm]'"
            ) from exc
        return lightgbm

    def _fit(self, X, y, rows, val) -> None:
        lgb = self._lgb()
        k = len(self.classes_)
        params = {
            "objective": "multiclass",
            "num_class": k,
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
        train_set = lgb.Dataset(X[rows], label=y[rows].astype(np.int64), free_raw_data=True)
        callbacks = []
        valid_sets = []
        if val is not None:
            Xv, yv, rows_v = val
            valid_sets = [lgb.Dataset(Xv[rows_v], label=yv[rows_v].astype(np.int64), reference=train_set)]
            callbacks.append(lgb.early_stopping(int(self.early_stopping_rounds), verbose=False))
        booster = lgb.train(
            params, train_set, num_boost_round=int(self.n_estimators), valid_sets=valid_sets, callbacks=callbacks
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.booster_ = booster

    def _predict_valid(self, X, start):
        p = self.booster_.predict(X[start:], num_iteration=self.best_iteration_)
        return np.asarray(p, dtype=np.float64).reshape(X.shape[0] - start, len(self.classes_))

    def _get_state(self):
        import torch

        text = self.booster_.model_to_string(num_iteration=self.best_iteration_).encode("utf-8")
        return {"best_iteration": self.best_iteration_}, {
            "booster": torch.frombuffer(bytearray(text), dtype=torch.uint8)
        }

    def _set_state(self, meta, tensors):
        lgb = self._lgb()
        text = bytes(tensors["booster"].numpy().tobytes()).decode("utf-8")
        self.booster_ = lgb.Booster(model_str=text)
        self.best_iteration_ = int(meta["best_iteration"])
