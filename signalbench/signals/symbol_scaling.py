"""Per-symbol normalisation for pooled training: each symbol's features as z-scores of its own training rows.

A model fitted on the training rows of several symbols at once (``[split] pool = "all"``) would otherwise scale every
feature with one mean and standard deviation over the concatenation: one scale for a $220 and a $580 stock, their
queue sizes and their spreads. :class:`SymbolScaler` is the stage before the model: it fits a mean and a standard
deviation per symbol and per column on that symbol's **training rows only** (every finite value; a constant column
gets a standard deviation of 1), and transforms any frame of that symbol (its validation and tested rows, a stream of
it) with those statistics. It is fitted once per fit and saved beside the model (:meth:`to_dict` / :meth:`save`, JSON),
so predictions use the statistics the model was trained with. A symbol not seen in training is an error naming it.

The stage applies to a model whose :attr:`~signalbench.signals.SignalModel.per_symbol_normalisation` is true: every
model of engineered features. The order-book models (their inputs are made scale-free row by row, prices relative to
the row's mid and log sizes, inside the model) and the sign-rule baselines (which read a feature's sign, which a
shifted mean would change) set it false.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from signalbench import _validation as v
from signalbench._atomic import write_text

__all__ = ["SymbolScaler"]


class SymbolScaler:
    """A mean and a standard deviation per symbol and column, fitted on each symbol's training rows.

    Attributes (after :meth:`fit`)
    ------------------------------
    columns_ : list of str
        The feature columns, in order.
    mean_, std_ : dict of str to numpy.ndarray
        Per symbol, ``(F,)`` float64.
    rows_ : dict of str to int
        Per symbol, the training rows the statistics rest on.
    """

    def fit(self, parts: Iterable[tuple[str, pd.DataFrame]]) -> SymbolScaler:
        """Fit on ``(symbol, training rows)`` pairs; several pairs of one symbol (its days) are pooled.

        Parameters
        ----------
        parts : iterable of (str, pandas.DataFrame)
            Each symbol's training rows only (never its validation or tested rows), all with the same columns.

        Returns
        -------
        SymbolScaler
            ``self``.
        """
        frames: dict[str, list[np.ndarray]] = {}
        columns: list[str] | None = None
        for symbol, frame in parts:
            if not isinstance(symbol, str) or not symbol:
                raise TypeError(v.expected("symbol", "a non-empty string", symbol))
            columns = self._columns(frame, columns, symbol)
            values = frame.to_numpy(dtype=np.float64)
            frames.setdefault(symbol, []).append(np.where(np.isfinite(values), values, np.nan))
        if columns is None:
            raise ValueError(v.expected("parts", "at least one (symbol, training rows) pair", "none", raw=True))
        self.columns_, self.mean_, self.std_, self.rows_ = columns, {}, {}, {}
        for symbol, blocks in frames.items():
            self._fit_symbol(symbol, np.concatenate(blocks))
        return self

    def _columns(self, frame: Any, columns: list[str] | None, symbol: str) -> list[str]:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(v.expected(f"training rows of {symbol!r}", "a pandas DataFrame", frame))
        names = [str(c) for c in frame.columns]
        if columns is not None and names != columns:
            got = f"columns {names}"
            raise ValueError(v.expected(f"training rows of {symbol!r}", f"the columns {columns}", got, raw=True))
        return names

    def _fit_symbol(self, symbol: str, values: np.ndarray) -> None:
        finite = np.isfinite(values)
        empty = ~finite.any(axis=0)
        if empty.any():
            column = self.columns_[int(np.flatnonzero(empty)[0])]
            raise ValueError(
                v.expected(
                    f"training rows of {symbol!r}",
                    "finite values in every column",
                    "none",
                    at=f"column {column!r}",
                    raw=True,
                    hint="give the symbol training rows past the features' warm-up",
                )
            )
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
        self.mean_[symbol] = mean
        self.std_[symbol] = np.where(std > 0, std, 1.0)
        self.rows_[symbol] = int(finite.all(axis=1).sum())

    @property
    def symbols(self) -> list[str]:
        """The symbols seen in training, sorted."""
        self._check_fitted()
        return sorted(self.mean_)

    def transform(self, X: pd.DataFrame, symbol: str) -> pd.DataFrame:
        """``(X - mean) / std`` with ``symbol``'s training statistics (same index and columns, float64).

        Raises
        ------
        ValueError
            ``symbol`` was not seen in training, or ``X`` has other columns than the training rows had.
        """
        self._check_fitted()
        if symbol not in self.mean_:
            raise ValueError(
                v.expected(
                    "symbol",
                    f"one of the symbols the model was trained on {self.symbols}",
                    repr(symbol) + v.did_you_mean(symbol, self.symbols),
                    raw=True,
                    hint="a pooled model normalises each symbol with its own training statistics; train it on "
                    "that symbol too",
                )
            )
        self._columns(X, self.columns_, symbol)
        values = (X.to_numpy(dtype=np.float64) - self.mean_[symbol]) / self.std_[symbol]
        return pd.DataFrame(values, index=X.index, columns=X.columns)

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise ValueError(v.expected("SymbolScaler", "a fitted scaler", "an unfitted one", raw=True, hint="fit it"))

    # ------------------------------------------------------------------ persistence (JSON)

    def to_dict(self) -> dict[str, Any]:
        """The fitted statistics as plain JSON-able data (:meth:`from_dict` reads them back exactly)."""
        self._check_fitted()
        stats = {
            s: {"mean": self.mean_[s].tolist(), "std": self.std_[s].tolist(), "rows": self.rows_[s]}
            for s in self.symbols
        }
        return {"kind": "symbol_zscore", "columns": list(self.columns_), "symbols": stats}

    @classmethod
    def from_dict(cls, data: Any) -> SymbolScaler:
        """A fitted scaler from :meth:`to_dict`'s output; a wrong shape is a ``ValueError`` naming the key."""
        if not isinstance(data, dict) or data.get("kind") != "symbol_zscore":
            raise ValueError(v.expected("normaliser", "a dict with kind 'symbol_zscore'", data))
        columns = data.get("columns")
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ValueError(v.expected("normaliser['columns']", "a list of column names", columns))
        out = cls()
        out.columns_, out.mean_, out.std_, out.rows_ = columns, {}, {}, {}
        for symbol, stats in dict(data.get("symbols") or {}).items():
            for key in ("mean", "std"):
                value = np.asarray(stats.get(key) if isinstance(stats, dict) else None, dtype=object)
                if value.shape != (len(columns),):
                    got = f"{value.shape} values"
                    raise ValueError(
                        v.expected(
                            f"normaliser['symbols'][{symbol!r}][{key!r}]", f"{len(columns)} numbers", got, raw=True
                        )
                    )
            out.mean_[symbol] = np.asarray(stats["mean"], dtype=np.float64)
            out.std_[symbol] = np.asarray(stats["std"], dtype=np.float64)
            out.rows_[symbol] = int(stats.get("rows", 0))
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON to ``path`` atomically (the old file stays whole if the write fails)."""
        write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> SymbolScaler:
        """Read a scaler written by :meth:`save`."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))
