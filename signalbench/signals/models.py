"""The neural signal models: ``lstm``, ``transformer``, ``multitask_lstm``, ``lstm_regressor`` and ``deeplob``.

Each is a :class:`~signalbench.signals.base.TorchSignalModel`: hyperparameters in ``__init__``, the network from
:mod:`signalbench.signals.nets`, the training loop of :mod:`signalbench.signals.training`. The training settings are
shared:

seq_len : int
    Rows per window: output row ``t`` reads rows ``t - seq_len + 1 .. t``.
epochs, batch_size, lr, weight_decay, clip_grad_norm, patience, lr_patience
    Adam with weight decay, gradient-norm clipping, learning rate halved after ``lr_patience`` epochs without
    improvement, early stopping after ``patience`` epochs without a lower *validation* loss (best weights restored;
    without validation data all ``epochs`` run).
class_weight : None, "balanced" or list of float
    Cross-entropy weight per class (in the order of ``classes_``); "balanced" uses ``n / (k * count)``.
seed : int
    Seeds initialisation, dropout and shuffling; CPU runs with one seed are identical.
device : str
    "auto" (CUDA when available, else CPU), "cpu", "cuda", ...
progress : bool or None
    tqdm progress bar over epochs (None: only on a terminal).
predict_batch_size : int
    Windows per inference batch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from signalbench.signals.base import (
    TorchSignalModel,
    _as_vector,
    _first_true,
    check_choice,
    check_float,
    check_int,
    most_probable,
)
from signalbench.signals.nets import (
    DeepLOBConfig,
    DeepLOBNet,
    LSTMConfig,
    LSTMNet,
    MultiTaskLSTMNet,
    TransformerConfig,
    TransformerNet,
)

__all__ = ["DeepLOBModel", "LSTMModel", "LSTMRegressor", "MultiTaskLSTM", "TransformerModel"]


def _store(obj, params: dict) -> None:
    for k, v in params.items():
        if k not in ("self", "__class__"):
            setattr(obj, k, v)


def _check_lstm(model) -> None:
    check_int(model, "hidden_size", 1)
    check_int(model, "num_layers", 1)
    check_int(model, "head_size", 0)
    check_float(model, "dropout", 0.0, 1.0, high_open=True)
    check_choice(model, "pooling", ("attention", "last", "mean"))
    check_choice(model, "bidirectional", (True, False))
    check_choice(model, "batch_norm", (True, False))


def _lstm_config(model, n_outputs: int) -> LSTMConfig:
    return LSTMConfig(
        n_features=int(model.n_features_in_),
        n_outputs=int(n_outputs),
        hidden_size=int(model.hidden_size),
        num_layers=int(model.num_layers),
        bidirectional=bool(model.bidirectional),
        pooling=model.pooling,
        head_size=int(model.head_size),
        dropout=float(model.dropout),
        batch_norm=bool(model.batch_norm),
    )


class LSTMModel(TorchSignalModel):
    """LSTM direction classifier (seed 000), with options for the variants of seeds 003 and 004.

    An LSTM reads the window (optionally in both directions, inside the window only), the per-step outputs are pooled
    (attention weights, the last step or the mean), optionally batch-normalized, and an MLP head gives class logits.

    - seed 000: the defaults (2 layers, bidirectional, attention pooling, head of 32, dropout 0.2);
    - seed 003: ``num_layers=1, bidirectional=False, pooling="last", batch_norm=True, dropout=0.3``;
    - seed 004: ``bidirectional=False, pooling="last", head_size=0`` (plain LSTM, linear layer on the last step).

    Parameters
    ----------
    seq_len : int, default 50
        Window length.
    hidden_size : int, default 64
        LSTM units per direction.
    num_layers : int, default 2
        Stacked LSTM layers.
    bidirectional : bool, default True
        Read the window in both directions.
    pooling : {"attention", "last", "mean"}, default "attention"
        Pooling of the per-step outputs.
    head_size : int, default 32
        Hidden units of the head (0: linear head).
    dropout : float, default 0.2
        Dropout rate.
    batch_norm : bool, default False
        Batch norm on the pooled vector.
    epochs, batch_size, lr, weight_decay, clip_grad_norm, patience, lr_patience, class_weight, seed, device, \
progress, predict_batch_size
        Training settings (module docstring).
    """

    name = "lstm"
    task = "classification"

    def __init__(
        self,
        *,
        seq_len: int = 50,
        hidden_size: int = 64,
        num_layers: int = 2,
        bidirectional: bool = True,
        pooling: str = "attention",
        head_size: int = 32,
        dropout: float = 0.2,
        batch_norm: bool = False,
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        clip_grad_norm: float | None = 1.0,
        patience: int = 5,
        lr_patience: int = 2,
        class_weight=None,
        seed: int = 0,
        device: str = "auto",
        progress: bool | None = None,
        predict_batch_size: int = 1024,
    ):
        _store(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        _check_lstm(self)

    def _net_config(self):
        return _lstm_config(self, len(self.classes_))

    @classmethod
    def _config_class(cls):
        return LSTMConfig

    @staticmethod
    def _build_net(config):
        return LSTMNet(config)


class TransformerModel(TorchSignalModel):
    """Seed 000's Transformer classifier: input projection, sinusoidal positions, encoder layers, last-token head.

    Parameters
    ----------
    seq_len : int, default 50
        Window length.
    d_model : int, default 64
        Model width.
    nhead : int, default 4
        Attention heads (divides ``d_model``).
    num_layers : int, default 2
        Encoder layers.
    dim_feedforward : int, default 128
        Feed-forward width.
    dropout : float, default 0.1
        Dropout rate.
    head_size : int, default 32
        Hidden units of the head (0: linear head).
    epochs, batch_size, lr, weight_decay, clip_grad_norm, patience, lr_patience, class_weight, seed, device, \
progress, predict_batch_size
        Training settings (module docstring).
    """

    name = "transformer"
    task = "classification"

    def __init__(
        self,
        *,
        seq_len: int = 50,
        d_model: int = 64,
        nhead: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
        head_size: int = 32,
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        clip_grad_norm: float | None = 1.0,
        patience: int = 5,
        lr_patience: int = 2,
        class_weight=None,
        seed: int = 0,
        device: str = "auto",
        progress: bool | None = None,
        predict_batch_size: int = 1024,
    ):
        _store(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        for name in ("d_model", "nhead", "num_layers", "dim_feedforward"):
            check_int(self, name, 1)
        check_int(self, "head_size", 0)
        check_float(self, "dropout", 0.0, 1.0, high_open=True)
        if self.d_model % self.nhead:
            raise ValueError(f"nhead ({self.nhead}) must divide d_model ({self.d_model})")

    def _net_config(self):
        return TransformerConfig(
            n_features=int(self.n_features_in_),
            n_outputs=len(self.classes_),
            seq_len=int(self.seq_len),
            d_model=int(self.d_model),
            nhead=int(self.nhead),
            num_layers=int(self.num_layers),
            dim_feedforward=int(self.dim_feedforward),
            dropout=float(self.dropout),
            head_size=int(self.head_size),
        )

    @classmethod
    def _config_class(cls):
        return TransformerConfig

    @staticmethod
    def _build_net(config):
        return TransformerNet(config)


class LSTMRegressor(TorchSignalModel):
    """Seed 002's next-return regressor: a stacked LSTM, a linear layer on the last step, one value per row.

    Fit it on a future return (e.g. :func:`signalbench.data.labels.forward_log_return`); targets are standardized with
    the training rows' mean and standard deviation for the loss (mean squared error) and ``predict`` returns the
    forecast in the target's units. Seed 002 predicted the next *price* from raw prices; a return is the honest,
    stationary version of that target.

    Parameters
    ----------
    seq_len : int, default 60
        Window length.
    hidden_size : int, default 128
        LSTM units.
    num_layers : int, default 2
        Stacked LSTM layers.
    dropout : float, default 0.0
        Dropout between LSTM layers.
    head_size : int, default 0
        Hidden units of the head (0: linear layer, as in the seed).
    epochs, batch_size, lr, weight_decay, clip_grad_norm, patience, lr_patience, seed, device, progress, \
predict_batch_size
        Training settings (module docstring); ``batch_size`` defaults to the seed's 64.
    """

    name = "lstm_regressor"
    task = "regression"

    def __init__(
        self,
        *,
        seq_len: int = 60,
        hidden_size: int = 128,
        num_layers: int = 2,
        dropout: float = 0.0,
        head_size: int = 0,
        epochs: int = 50,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        clip_grad_norm: float | None = 1.0,
        patience: int = 5,
        lr_patience: int = 2,
        seed: int = 0,
        device: str = "auto",
        progress: bool | None = None,
        predict_batch_size: int = 1024,
    ):
        _store(self, locals())

    class_weight = None  # not a hyperparameter of a regressor

    def _validate_params(self) -> None:
        super()._validate_params()
        check_int(self, "hidden_size", 1)
        check_int(self, "num_layers", 1)
        check_int(self, "head_size", 0)
        check_float(self, "dropout", 0.0, 1.0, high_open=True)

    def _net_config(self):
        return LSTMConfig(
            n_features=int(self.n_features_in_),
            n_outputs=1,
            hidden_size=int(self.hidden_size),
            num_layers=int(self.num_layers),
            bidirectional=False,
            pooling="last",
            head_size=int(self.head_size),
            dropout=float(self.dropout),
            batch_norm=False,
        )

    @classmethod
    def _config_class(cls):
        return LSTMConfig

    @staticmethod
    def _build_net(config):
        return LSTMNet(config)


class MultiTaskLSTM(TorchSignalModel):
    """Seed 001's multi-task LSTM: direction classes plus a spread-change forecast from one shared encoder.

    ``fit(X, y)`` takes ``y`` with two columns, ``(n, 2)`` array or DataFrame: column 0 the direction class
    (e.g. :func:`signalbench.data.labels.direction`), column 1 the auxiliary target (e.g.
    :func:`signalbench.data.labels.spread_change`). The loss is cross-entropy plus ``aux_weight`` times the mean
    squared error of the standardized auxiliary target. :meth:`predict_proba` gives the direction probabilities,
    :meth:`predict_aux` the auxiliary forecast in its own units.

    Parameters
    ----------
    seq_len : int, default 50
        Window length.
    hidden_size, num_layers, bidirectional, pooling, head_size, dropout, batch_norm
        As for :class:`LSTMModel`; the defaults are a plain 2-layer LSTM read at its last step.
    aux_weight : float, default 1.0
        Weight of the auxiliary loss.
    epochs, batch_size, lr, weight_decay, clip_grad_norm, patience, lr_patience, class_weight, seed, device, \
progress, predict_batch_size
        Training settings (module docstring).
    """

    name = "multitask_lstm"
    task = "classification"

    def __init__(
        self,
        *,
        seq_len: int = 50,
        hidden_size: int = 64,
        num_layers: int = 2,
        bidirectional: bool = False,
        pooling: str = "last",
        head_size: int = 32,
        dropout: float = 0.2,
        batch_norm: bool = False,
        aux_weight: float = 1.0,
        epochs: int = 30,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        clip_grad_norm: float | None = 1.0,
        patience: int = 5,
        lr_patience: int = 2,
        class_weight=None,
        seed: int = 0,
        device: str = "auto",
        progress: bool | None = None,
        predict_batch_size: int = 1024,
    ):
        _store(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        _check_lstm(self)
        check_float(self, "aux_weight", 0.0, float("inf"), high_open=True)

    def _encode_targets(self, y, n, name, *, fitting):
        if isinstance(y, pd.DataFrame):
            y = y.to_numpy(dtype=np.float64, na_value=np.nan)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(
                f"{name} must have two columns (direction class, auxiliary target such as the spread change), "
                f"got shape {y.shape}"
            )
        direction = super()._encode_targets(y[:, 0], n, name + "[:, 0]", fitting=fitting)
        aux = _as_vector(y[:, 1], name + "[:, 1]", n)
        return np.column_stack([direction, aux])

    def _training_targets(self, y, rows):
        aux = y[rows, 1]
        self.target_mean_ = float(np.mean(aux))
        sd = float(np.std(aux))
        self.target_scale_ = sd if sd > 0 else 1.0
        return self._apply_target_transform(y)

    def _apply_target_transform(self, y):
        out = y.astype(np.float64).copy()
        out[:, 1] = (out[:, 1] - self.target_mean_) / self.target_scale_
        return out.astype(np.float32)

    def _criterion(self, y, rows):
        from signalbench.signals.training import multitask_loss

        return multitask_loss(len(self.classes_), float(self.aux_weight), self._class_weights(y[:, 0], rows))

    def _n_outputs(self) -> int:
        return len(self.classes_) + 1

    def _transform_output(self, out):
        import torch

        k = len(self.classes_)
        probs = torch.softmax(out[:, :k].double(), dim=1)  # (B, k)
        aux = out[:, k:].double() * self.target_scale_ + self.target_mean_  # (B, 1)
        return torch.cat([probs, aux], dim=1)

    def _net_config(self):
        return _lstm_config(self, len(self.classes_))

    @classmethod
    def _config_class(cls):
        return LSTMConfig

    @staticmethod
    def _build_net(config):
        return MultiTaskLSTMNet(config)

    def predict_proba(self, X) -> np.ndarray:
        """Direction probabilities ``(n, k)``; see :meth:`SignalModel.predict_proba`."""
        return self._outputs(X)[:, : len(self.classes_)]

    def predict(self, X) -> np.ndarray:
        """Most probable direction class per row (NaN where no prediction is made)."""
        return most_probable(self.predict_proba(X), self.classes_)

    def predict_aux(self, X) -> np.ndarray:
        """Auxiliary (spread-change) forecast per row, in the units of ``y[:, 1]``.

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            ``(n, F)`` features in time order.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` float64, NaN where no prediction is made.
        """
        return self._outputs(X)[:, len(self.classes_)]

    def example_data(self, n: int, seed: int = 0):
        """Default features; targets ``(n, 2)``: the default classes and a spread change driven by ``f1``."""
        X, y = super().example_data(n, seed)
        rng = np.random.default_rng(seed + 1)
        aux = 0.01 * X["f1"].to_numpy() + 0.005 * rng.standard_normal(n)
        return X, np.column_stack([y, aux])


def _book_columns(levels: int) -> list[str]:
    return [f"{side}_{what}_{i}" for i in range(1, levels + 1) for side in ("ask", "bid") for what in ("price", "size")]


class DeepLOBModel(TorchSignalModel):
    """DeepLOB (Zhang, Zohren and Roberts 2019) for multi-level order-book input.

    **Expected features**: the raw book, 4 columns per level in LOBSTER's order (what
    :func:`signalbench.data.load_lobster` returns): ``ask_price_1, ask_size_1, bid_price_1, bid_size_1,
    ask_price_2, ...`` up to ``bid_size_L``, so ``F = 4 * L``. A DataFrame must have exactly these names in this order
    (``df[DeepLOBModel.book_columns(L)]`` selects them); a plain array must have ``4 * L`` columns in this order.
    Each column is z-scored with the training rows' mean and standard deviation (the paper normalizes with the
    previous days' statistics). Empty levels (NaN) make a window unusable, so choose ``L`` such that the book is full.

    The unpadded temporal convolutions need ``seq_len >= 6 * (time_kernel - 1) + 1`` (19 with the paper's kernel 4;
    the paper uses 100 events).

    Parameters
    ----------
    seq_len : int, default 100
        Window length.
    conv_channels : int, default 32
        Filters of the convolution blocks.
    inception_channels : int, default 64
        Filters per Inception branch.
    lstm_hidden : int, default 64
        LSTM units.
    time_kernel : int, default 4
        Temporal kernel of the convolution blocks.
    epochs, batch_size, lr, weight_decay, clip_grad_norm, patience, lr_patience, class_weight, seed, device, \
progress, predict_batch_size
        Training settings (module docstring); ``batch_size`` defaults to the paper's 64.
    """

    name = "deeplob"
    task = "classification"

    def __init__(
        self,
        *,
        seq_len: int = 100,
        conv_channels: int = 32,
        inception_channels: int = 64,
        lstm_hidden: int = 64,
        time_kernel: int = 4,
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        clip_grad_norm: float | None = 1.0,
        patience: int = 5,
        lr_patience: int = 2,
        class_weight=None,
        seed: int = 0,
        device: str = "auto",
        progress: bool | None = None,
        predict_batch_size: int = 1024,
    ):
        _store(self, locals())

    @staticmethod
    def book_columns(levels: int) -> list[str]:
        """The input columns DeepLOB expects for ``levels`` book levels, in order.

        Parameters
        ----------
        levels : int
            Book levels.

        Returns
        -------
        list of str
            ``["ask_price_1", "ask_size_1", "bid_price_1", "bid_size_1", "ask_price_2", ...]``.
        """
        return _book_columns(levels)

    def _validate_params(self) -> None:
        super()._validate_params()
        for name in ("conv_channels", "inception_channels", "lstm_hidden"):
            check_int(self, name, 1)
        check_int(self, "time_kernel", 1)
        need = 6 * (self.time_kernel - 1) + 1
        if self.seq_len < need:
            raise ValueError(
                f"seq_len must be >= 6 * (time_kernel - 1) + 1 = {need} for DeepLOB's unpadded convolutions, "
                f"got seq_len={self.seq_len} with time_kernel={self.time_kernel}"
            )

    def _net_config(self):
        F = int(self.n_features_in_)
        names = self.feature_names_in_
        layout = "ask_price_1, ask_size_1, bid_price_1, bid_size_1, ask_price_2, ... (4 columns per level)"
        if F % 4:
            raise ValueError(
                f"deeplob needs the raw order book as features, {layout}; got {F} columns, not 4 per level"
            )
        levels = F // 4
        if names is not None and names != _book_columns(levels):
            wrong = _first_true(np.array([a != b for a, b in zip(names, _book_columns(levels))]))
            raise ValueError(
                f"deeplob needs the raw order book as features in the order {layout}; column {wrong} is "
                f"{names[wrong]!r} where {_book_columns(levels)[wrong]!r} is expected "
                f"(select them with X[DeepLOBModel.book_columns({levels})])"
            )
        return DeepLOBConfig(
            levels=levels,
            n_outputs=len(self.classes_),
            conv_channels=int(self.conv_channels),
            inception_channels=int(self.inception_channels),
            lstm_hidden=int(self.lstm_hidden),
            time_kernel=int(self.time_kernel),
        )

    @classmethod
    def _config_class(cls):
        return DeepLOBConfig

    @staticmethod
    def _build_net(config):
        return DeepLOBNet(config)

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
        X = pd.DataFrame(cols)[_book_columns(2)]
        imb = (X["bid_size_1"] - X["ask_size_1"]) / (X["bid_size_1"] + X["ask_size_1"])
        signal = imb.to_numpy() + 0.3 * rng.standard_normal(n)
        y = np.where(signal > 0.3, 2.0, np.where(signal < -0.3, 0.0, 1.0))
        return X, y
