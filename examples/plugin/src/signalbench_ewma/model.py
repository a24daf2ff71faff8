"""``ewma_ridge``: a ridge classifier on the exponentially weighted mean of each feature over the window.

The whole plugin contract (``signalbench.signals.base.SignalModel``):

- class attributes ``name`` (the entry-point name), ``task`` and the declared ``hyperparameters`` (checked when the
  model is made; ``seq_len`` sets the window);
- ``fit_prepared(X, y, rows, val, *, callback)``: learn from the prepared ``(n, F)`` float32 features, the encoded
  ``(n,)`` targets and the ``(m,)`` training rows;
- ``predict_prepared(X, start)``: ``(n - start, k)`` class probabilities of rows ``start .. n - 1``, each read from
  its own window only;
- ``get_learned_state`` / ``set_learned_state`` / ``learned_state_shapes``: what ``save`` writes and ``load`` checks
  and restores.

Everything else (input checks, NaN rows, the feature scaler, the class set, save/load files, the conformance suite)
comes from the base class.
"""

from __future__ import annotations

import numpy as np
import torch

from signalbench.signals.base import SignalModel
from signalbench.signals.params import Float, Int, Param, declare

__all__ = ["EWMARidge"]


class EWMARidge(SignalModel):
    """Ridge regression of the one-hot class on each feature's EWMA over the window, softmax of the scores.

    Row ``t``'s input is ``z_t = sum_a w_a X[t - a]`` over ages ``a = 0 .. seq_len - 1`` with weights
    ``w_a`` proportional to ``0.5 ** (a / halflife)`` (summing to 1): the momentum of each (scaled) feature. The
    class scores ``[z_t, 1] @ coef_`` are fitted in closed form (ridge penalty ``alpha``, intercept not penalized)
    and turned into probabilities by a softmax at ``temperature``.
    """

    name = "ewma_ridge"
    task = "classification"
    hyperparameters = declare(
        {
            "seq_len": Param(10, Int(minimum=1), "Rows per window (the weights are cut there)."),
            "halflife": Param(3.0, Float(low=0.0, low_open=True), "Half-life of the weights, in rows."),
            "alpha": Param(1.0, Float(low=0.0), "Ridge penalty on the coefficients (not on the intercept)."),
            "temperature": Param(0.1, Float(low=0.0, low_open=True), "Softmax temperature of the class scores."),
        }
    )

    def _ewma(self, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), F + 1)`` float64: each row's weighted window mean, then a constant 1 (the intercept)."""
        weights = 0.5 ** (np.arange(self.seq_len) / self.halflife)  # (seq_len,), by age: 0 is the row itself
        weights /= weights.sum()
        z = np.zeros((rows.size, X.shape[1] + 1))
        z[:, -1] = 1.0
        for age, w in enumerate(weights):  # seq_len passes over the rows: no (n, seq_len, F) copy
            z[:, :-1] += w * X[rows - age]
        return z

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """Closed-form ridge fit on the training ``rows`` (``val`` and ``callback`` are not needed: no epochs)."""
        Z = self._ewma(X, rows)  # (m, F + 1)
        Y = np.eye(len(self.classes_))[y[rows].astype(np.int64)]  # (m, k) one-hot
        penalty = self.alpha * np.eye(Z.shape[1])
        penalty[-1, -1] = 0.0  # the intercept is not shrunk
        self.coef_ = np.linalg.lstsq(Z.T @ Z + penalty, Z.T @ Y, rcond=None)[0]  # (F + 1, k)

    def predict_prepared(self, X, start):
        """``(n - start, k)`` softmax of the class scores of rows ``start .. n - 1``."""
        scores = self._ewma(X, np.arange(start, X.shape[0])) @ self.coef_ / self.temperature  # (n - start, k)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return p / p.sum(axis=1, keepdims=True)

    def get_learned_state(self):
        """No JSON metadata; the ``(F + 1, k)`` coefficients as a tensor."""
        return {}, {"coef": torch.from_numpy(self.coef_.copy())}

    def set_learned_state(self, meta, tensors):
        """Restore the coefficients."""
        self.coef_ = tensors["coef"].numpy().astype(np.float64)

    def learned_state_shapes(self):
        """``coef``: ``(F + 1, k)``, checked by ``load`` before :meth:`set_learned_state`."""
        return {"coef": (int(self.n_features_in_) + 1, len(self.classes_))}
