"""The base of the models that read the raw order book: its column layout, its per-row transforms, its example data.

DeepLOB, BiN-CTABL, TLOB and MLPLOB take the same input: 4 columns per level in LOBSTER's order (what
:func:`signalbench.data.load_lobster` returns), ``ask_price_1, ask_size_1, bid_price_1, bid_size_1, ask_price_2, ...``
up to ``bid_size_L``. Before the scaler (z-scores fitted on the training rows), each row is transformed on its own:
prices relative to the row's mid in basis points (``price_input="mid_bps"``) and sizes as ``log1p(size)``
(``size_input="log"``). The transforms are ``nn.Module`` s, so the NumPy path and the ONNX graph run the same code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from torch import nn

from signalbench import _validation as v
from signalbench.signals.inputs import first_true
from signalbench.signals.nets import LogSizes, MidRelativePrices
from signalbench.signals.params import Choice, Param
from signalbench.signals.torch_model import TorchSignalModel

__all__ = ["BOOK_INPUT", "BookModel", "book_columns"]

#: How the book's prices and sizes reach the scaler (shared by every book model).
BOOK_INPUT = {
    "price_input": Param(
        "mid_bps",
        Choice(("mid_bps", "raw")),
        "Prices as seen by the network: 'mid_bps' = (price - mid) / mid * 1e4 of the same row (scale-free); "
        "'raw' = the price itself (then z-scored with training statistics).",
    ),
    "size_input": Param(
        "log",
        Choice(("log", "raw")),
        "Sizes as seen by the network: 'log' = log1p(size) of the same row (tames heavy-tailed queues); 'raw' = the "
        "size itself (then z-scored with training statistics).",
    ),
}

_POSITIVE_MID = "order-book prices > 0 (a positive mid)"
_LAYOUT = "the raw order book: ask_price_1, ask_size_1, bid_price_1, bid_size_1, ask_price_2, ..."


def book_columns(levels: int) -> list[str]:
    """``["ask_price_1", "ask_size_1", "bid_price_1", "bid_size_1", "ask_price_2", ...]`` for ``levels`` levels."""
    return [f"{side}_{what}_{i}" for i in range(1, levels + 1) for side in ("ask", "bid") for what in ("price", "size")]


class BookModel(TorchSignalModel):
    """A neural model of the raw order book (``F = 4 * levels`` columns in LOBSTER's order; see the module).

    A subclass declares :data:`BOOK_INPUT` among its hyperparameters. A DataFrame must have exactly the columns of
    :meth:`book_columns` in this order (``df[Model.book_columns(L)]`` selects them); a plain array must have ``4 * L``
    columns in this order. Empty levels (NaN) make a window unusable, so choose ``L`` such that the book is full.
    """

    per_symbol_normalisation = False  # prices relative to the row's mid and log sizes are scale-free already

    @staticmethod
    def book_columns(levels: int) -> list[str]:
        """The input columns for ``levels`` book levels, in order.

        Parameters
        ----------
        levels : int
            Book levels.

        Returns
        -------
        list of str
            ``["ask_price_1", "ask_size_1", "bid_price_1", "bid_size_1", "ask_price_2", ...]``.
        """
        return book_columns(v.integer(levels, "levels", minimum=1))

    def _check_feature_layout(self, n_features: int, names: list[str] | None) -> None:
        if n_features % 4:
            raise ValueError(v.expected("X", f"{_LAYOUT} (4 columns per level)", f"{n_features} columns", raw=True))
        want = book_columns(n_features // 4)
        if names is not None and names != want:
            col = first_true(np.array([a != b for a, b in zip(names, want)]))
            raise ValueError(
                v.expected(
                    "X",
                    f"{_LAYOUT} in this order",
                    repr(names[col]),
                    at=f"column {col} where {want[col]!r} belongs",
                    raw=True,
                    hint=f"select them with X[{type(self).__name__}.book_columns({n_features // 4})]",
                )
            )

    def _row_transform(self, n_features: int) -> nn.Module | None:
        parts = []
        if self.price_input == "mid_bps":
            parts.append(MidRelativePrices(n_features // 4))
        if self.size_input == "log":
            parts.append(LogSizes(n_features // 4))
        return nn.Sequential(*parts) if parts else None

    def _transform_features(self, X: np.ndarray) -> np.ndarray:
        if self.price_input == "mid_bps":
            mid = (X[:, 0] + X[:, 2]) / 2
            bad = np.isfinite(mid) & (mid <= 0)
            if bad.any():
                row = first_true(bad)
                raise ValueError(v.expected("X", _POSITIVE_MID, float(mid[row]), at=v.where(row), raw=True))
        return super()._transform_features(X)

    def _row_problem(self):
        if self.price_input != "mid_bps":
            return None

        def problem(x: np.ndarray):
            mid = (x[0] + x[2]) / 2  # NaN (a missing price) is not a problem: the row is a gap, as in predict
            return (_POSITIVE_MID, float(mid)) if mid <= 0 else None

        return problem

    def example_data(self, n: int, seed: int = 0):
        """A random two-level book (LOBSTER column names) and direction classes driven by its level-1 imbalance."""
        rng = np.random.default_rng(seed)
        mid = 100 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], size=n))
        cols = {}
        for i in (1, 2):
            cols[f"ask_price_{i}"] = mid + 0.01 * i
            cols[f"ask_size_{i}"] = rng.integers(1, 500, size=n).astype(float)
            cols[f"bid_price_{i}"] = mid - 0.01 * i
            cols[f"bid_size_{i}"] = rng.integers(1, 500, size=n).astype(float)
        X = pd.DataFrame(cols)[book_columns(2)]
        imb = (X["bid_size_1"] - X["ask_size_1"]) / (X["bid_size_1"] + X["ask_size_1"])
        signal = imb.to_numpy() + 0.3 * rng.standard_normal(n)
        y = np.where(signal > 0.3, 2.0, np.where(signal < -0.3, 0.0, 1.0))
        return X, y
