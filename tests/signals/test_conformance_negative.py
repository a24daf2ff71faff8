"""Negative controls of the conformance suite: a deliberately broken model fails exactly the check meant to catch it.

Each broken model is the cheap majority baseline with one public method (``fit``, ``predict_proba``, ``save``) made
wrong in one way; the check must fail, name itself, and give the reason the bug deserves. (``causality``,
``determinism`` and ``batch_invariance`` have their controls in tests/signals/test_models.py.)
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest

from signalbench.signals import MajorityModel
from signalbench.signals.checks import signal_model_checks


def _fails(factory, name: str, reason: str) -> None:
    """Run the checks before ``name`` in the suite's order (their verdicts aside), then ``name`` must fail."""
    checks = signal_model_checks(factory)
    for check in checks[: [c.name for c in checks].index(name)]:
        with contextlib.suppress(AssertionError):
            check()
    check = next(c for c in checks if c.name == name)
    with pytest.raises(AssertionError, match=rf"(?s)^check_signal_model\[{name}\]: .*{reason}"):
        check()


class _PredictsUnfitted(MajorityModel):
    """Answers NaN before ``fit`` instead of raising NotFittedError."""

    def predict_proba(self, X):
        if not hasattr(self, "classes_"):
            return np.full((len(X), 3), np.nan)
        return super().predict_proba(X)


class _Unnormalised(MajorityModel):
    """Probabilities that do not sum to one."""

    def predict_proba(self, X):
        return super().predict_proba(X) * 0.9


class _Float32(MajorityModel):
    """Outputs in float32."""

    def predict_proba(self, X):
        return super().predict_proba(X).astype(np.float32)


class _FitReturnsNone(MajorityModel):
    def fit(self, X, y, **kwargs):
        super().fit(X, y, **kwargs)


class _FillsNaN(MajorityModel):
    """Replaces NaN inputs by zeros, so a window holding a NaN row still gets a (made-up) prediction."""

    def predict_proba(self, X):
        if hasattr(X, "fillna"):
            return super().predict_proba(X.fillna(0.0))
        return super().predict_proba(np.nan_to_num(np.asarray(X, dtype=np.float64), nan=0.0))


class _CountsPredictions(MajorityModel):
    """Predicting changes a learned attribute."""

    def predict_proba(self, X):
        self.n_predictions_ = getattr(self, "n_predictions_", 0) + 1
        return super().predict_proba(X)


class _ScribblesOnX(MajorityModel):
    """Predicting overwrites the caller's first feature value."""

    def predict_proba(self, X):
        out = super().predict_proba(X)
        if hasattr(X, "iloc"):
            X.iloc[0, 0] = 123.0
        return out


class _ScribblesOnY(MajorityModel):
    """Fitting overwrites the caller's labels."""

    def fit(self, X, y, **kwargs):
        out = super().fit(X, y, **kwargs)
        if isinstance(y, np.ndarray) and y.flags.writeable:
            y[-1] = 99.0
        return out


class _SwallowsInfinity(MajorityModel):
    """Infinite input values are quietly treated as missing instead of raising."""

    def predict_proba(self, X):
        if isinstance(X, np.ndarray) and X.ndim == 2:
            X = np.where(np.isinf(X), np.nan, X)
        return super().predict_proba(X)


CASES = [
    (_PredictsUnfitted, "not_fitted", "predicting before fit: no NotFittedError raised"),
    (_Unnormalised, "output", "row sums of predict_proba"),
    (_Float32, "output", "outputs must be float64"),
    (_FitReturnsNone, "output", "fit must return self"),
    (_FillsNaN, "nan_rows", r"windows containing the NaN row \d+\) must be NaN"),
    (_CountsPredictions, "no_mutation", "predicting changed a learned attribute"),
    (_ScribblesOnX, "no_mutation", "predicting modified X"),
    (_ScribblesOnY, "no_mutation", "fit modified y"),
    (_SwallowsInfinity, "errors", "infinite input: no ValueError raised"),
]


@pytest.mark.parametrize(
    ("factory", "name", "reason"),
    [pytest.param(*case, id=f"{case[0].__name__.strip('_')}-{case[1]}") for case in CASES],
)
def test_a_broken_model_fails_its_check(factory, name, reason):
    _fails(factory, name, reason)


def test_the_unbroken_base_passes_those_checks():
    """The control of the controls: the majority model itself passes every check used above."""
    for check in signal_model_checks(MajorityModel):
        if check.name in ("not_fitted", "output", "nan_rows", "save_load", "no_mutation", "errors"):
            check()


def test_a_model_that_saves_wrong_weights_fails_save_load(monkeypatch):
    """``save`` writes a state_dict of zeros: load gives the same class and hyperparameters but other predictions."""
    import torch

    real_save = MajorityModel.save

    def save(self, path, *args, **kwargs):
        out = real_save(self, path, *args, **kwargs)
        weights = Path(path) / "weights.pt"
        state = torch.load(weights, weights_only=True)
        torch.save({k: torch.zeros_like(v) for k, v in state.items()}, weights)
        return out

    monkeypatch.setattr(MajorityModel, "save", save)
    _fails(MajorityModel, "save_load", "predictions after save/load")
