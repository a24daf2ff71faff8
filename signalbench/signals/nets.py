"""Network modules of the signal models, and their configuration dataclasses. Nothing else lives here.

Every network maps a batch of windows ``(batch, seq_len, F)`` (float32, scaled features, oldest row first) to a
``(batch, n_outputs)`` tensor of logits or values, and sees nothing outside its window. Bidirectional layers and
"same"-padded convolutions mix rows inside the window only, so output row ``t`` still depends on rows
``t - seq_len + 1 .. t`` alone. Checkpoints hold a ``state_dict`` plus the config (``dataclasses.asdict``); a module is
rebuilt from its config and never pickled (as in nanoGPT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "DeepLOBConfig",
    "DeepLOBNet",
    "LSTMConfig",
    "LSTMEncoder",
    "LSTMNet",
    "LogSizes",
    "MidRelativePrices",
    "MultiTaskLSTMNet",
    "StatefulLSTMConfig",
    "StatefulLSTMNet",
    "TransformerConfig",
    "TransformerNet",
]


@dataclass(frozen=True)
class LSTMConfig:
    """LSTM encoder and head: the LSTM classifier's variants, the multi-task LSTM and the LSTM regressor.

    Attributes
    ----------
    n_features : int
        Input width ``F``.
    n_outputs : int
        Output width (classes, or 1 for a regression).
    hidden_size : int
        LSTM units per direction.
    num_layers : int
        Stacked LSTM layers.
    bidirectional : bool
        Also read the window backwards (inside the window only).
    pooling : {"attention", "last", "mean"}
        How the per-step outputs become one vector: learned attention weights over the steps, the last step (with
        ``bidirectional`` the forward half at the last step and the backward half at the first), or the mean.
    head_size : int
        Units of the hidden layer of the MLP head; 0 for a single linear layer.
    dropout : float
        Dropout between LSTM layers, after pooling and in the head.
    batch_norm : bool
        Batch-normalize the pooled vector.
    """

    n_features: int
    n_outputs: int
    hidden_size: int = 64
    num_layers: int = 2
    bidirectional: bool = False
    pooling: str = "attention"
    head_size: int = 32
    dropout: float = 0.2
    batch_norm: bool = False


def _head(n_in: int, head_size: int, n_out: int, dropout: float) -> nn.Module:
    if head_size == 0:
        return nn.Linear(n_in, n_out)
    return nn.Sequential(nn.Linear(n_in, head_size), nn.ReLU(), nn.Dropout(dropout), nn.Linear(head_size, n_out))


class LSTMEncoder(nn.Module):
    """LSTM over the window, pooled into one vector per window (optionally batch-normalized, then dropout)."""

    def __init__(self, cfg: LSTMConfig):
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(
            cfg.n_features,
            cfg.hidden_size,
            cfg.num_layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
            bidirectional=cfg.bidirectional,
        )
        width = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        self.out_size = width
        self.attention = nn.Linear(width, 1) if cfg.pooling == "attention" else None
        self.norm = nn.BatchNorm1d(width) if cfg.batch_norm else None
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, F)`` -> ``(B, H * directions)``."""
        h, _ = self.lstm(x)  # (B, L, H * D)
        pooling = self.cfg.pooling
        if pooling == "attention":
            w = torch.softmax(self.attention(h), dim=1)  # (B, L, 1), sums to 1 over the steps
            z = (h * w).sum(dim=1)  # (B, H * D)
        elif pooling == "last":
            if self.cfg.bidirectional:
                H = self.cfg.hidden_size
                z = torch.cat([h[:, -1, :H], h[:, 0, H:]], dim=1)  # forward end + backward end: (B, 2H)
            else:
                z = h[:, -1]  # (B, H)
        else:
            z = h.mean(dim=1)  # (B, H * D)
        if self.norm is not None:
            z = self.norm(z)
        return self.drop(z)


class LSTMNet(nn.Module):
    """LSTM encoder plus MLP head: logits (classifier) or one value (regressor)."""

    def __init__(self, cfg: LSTMConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = LSTMEncoder(cfg)
        self.head = _head(self.encoder.out_size, cfg.head_size, cfg.n_outputs, cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, F)`` -> ``(B, n_outputs)``."""
        return self.head(self.encoder(x))


class MultiTaskLSTMNet(nn.Module):
    """A shared LSTM encoder with a direction head (logits) and an auxiliary head (one value, e.g. a spread change).

    ``cfg.n_outputs`` is the number of direction classes; the output is ``(B, n_outputs + 1)``: the logits, then the
    auxiliary forecast.
    """

    def __init__(self, cfg: LSTMConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = LSTMEncoder(cfg)
        self.direction_head = _head(self.encoder.out_size, cfg.head_size, cfg.n_outputs, cfg.dropout)
        self.aux_head = _head(self.encoder.out_size, cfg.head_size, 1, cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, F)`` -> ``(B, n_outputs + 1)``."""
        z = self.encoder(x)  # (B, H * D)
        return torch.cat([self.direction_head(z), self.aux_head(z)], dim=1)  # (B, k + 1)


@dataclass(frozen=True)
class StatefulLSTMConfig:
    """A unidirectional LSTM read at every step, for the stateful model (no window: the state is the context).

    Attributes
    ----------
    n_features : int
        Input width ``F``.
    n_outputs : int
        Classes.
    hidden_size : int
        LSTM units.
    num_layers : int
        Stacked LSTM layers.
    dropout : float
        Dropout between LSTM layers and before the head.
    """

    n_features: int
    n_outputs: int
    hidden_size: int = 64
    num_layers: int = 2
    dropout: float = 0.0


class StatefulLSTMNet(nn.Module):
    """A stacked unidirectional LSTM and a linear head on each step's ``h_t``; takes and returns ``(h, c)``.

    Unlike the window networks it maps a run of rows ``(B, T, F)`` to logits for every step ``(B, T, n_outputs)``:
    step ``t`` sees rows ``0 .. t`` of the run and the state it started from (zero when none is given). It is the
    one network of :class:`~signalbench.signals.models.StatefulLSTM`'s training (chunks of a run, the state carried),
    prediction (whole runs) and streaming (one row at a time).
    """

    def __init__(self, cfg: StatefulLSTMConfig):
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(
            cfg.n_features,
            cfg.hidden_size,
            cfg.num_layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden_size, cfg.n_outputs)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``(B, T, F)`` and optional ``(h, c)``, each ``(num_layers, B, H)`` -> logits ``(B, T, k)``, ``(h, c)``."""
        out, state = self.lstm(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state


@dataclass(frozen=True)
class TransformerConfig:
    """An encoder-only Transformer over the window, read at its newest step.

    Attributes
    ----------
    n_features : int
        Input width ``F``.
    n_outputs : int
        Classes.
    seq_len : int
        Window length (size of the positional-encoding table).
    d_model : int
        Model width.
    nhead : int
        Attention heads (must divide ``d_model``).
    num_layers : int
        Encoder layers.
    dim_feedforward : int
        Feed-forward width inside each layer.
    dropout : float
        Dropout in the layers and the head.
    head_size : int
        Hidden units of the MLP head; 0 for a single linear layer.
    """

    n_features: int
    n_outputs: int
    seq_len: int
    d_model: int = 64
    nhead: int = 4
    num_layers: int = 2
    dim_feedforward: int = 128
    dropout: float = 0.1
    head_size: int = 32


def sinusoidal_encoding(length: int, d_model: int) -> torch.Tensor:
    """The fixed positional encoding of Vaswani et al. (2017), ``(length, d_model)``."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)  # (L, 1)
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))  # (ceil(d/2),)
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div[: d_model // 2])
    return pe


class TransformerNet(nn.Module):
    """Input projection, sinusoidal positions, ``num_layers`` encoder layers, head on the last step's token."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.input_projection = nn.Linear(cfg.n_features, cfg.d_model)
        self.register_buffer("pe", sinusoidal_encoding(cfg.seq_len, cfg.d_model), persistent=False)
        layer = nn.TransformerEncoderLayer(
            cfg.d_model, cfg.nhead, dim_feedforward=cfg.dim_feedforward, dropout=cfg.dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.num_layers, enable_nested_tensor=False)
        self.head = _head(cfg.d_model, cfg.head_size, cfg.n_outputs, cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, F)`` -> ``(B, n_outputs)``."""
        L = x.shape[1]
        h = self.input_projection(x) + self.pe[:L]  # (B, L, d_model)
        h = self.encoder(h)  # (B, L, d_model); full attention inside the window
        return self.head(h[:, -1])  # (B, n_outputs) from the newest step


@dataclass(frozen=True)
class DeepLOBConfig:
    """DeepLOB (Zhang, Zohren and Roberts 2019, IEEE Trans. Signal Processing 67(11)).

    The input row is the raw book, 4 numbers per level in LOBSTER's order: ``ask_price_i, ask_size_i, bid_price_i,
    bid_size_i`` for ``i = 1..levels``. Block 1 convolves each (price, size) pair (kernel (1, 2), stride (1, 2)),
    block 2 each (ask, bid) pair, block 3 all levels at once; each block then applies two convolutions of
    ``time_kernel`` steps (unpadded, so the window shrinks by ``6 * (time_kernel - 1)`` steps). An Inception module
    (1x1 -> 3x1, 1x1 -> 5x1, 3x1 max-pool -> 1x1) and an LSTM over the remaining steps follow; the last step's
    state feeds a linear layer.

    Attributes
    ----------
    levels : int
        Book levels ``L`` (the input has ``4 * L`` columns).
    n_outputs : int
        Classes.
    conv_channels : int
        Filters of the convolution blocks (32 in the authors' code).
    inception_channels : int
        Filters of each Inception branch (64).
    lstm_hidden : int
        LSTM units (64).
    time_kernel : int
        Temporal kernel of the convolution blocks (4).
    leaky_slope : float
        Negative slope of the LeakyReLUs (0.01).
    """

    levels: int
    n_outputs: int
    conv_channels: int = 32
    inception_channels: int = 64
    lstm_hidden: int = 64
    time_kernel: int = 4
    leaky_slope: float = 0.01

    @property
    def min_seq_len(self) -> int:
        """Shortest window the unpadded convolutions leave at least one step of."""
        return 6 * (self.time_kernel - 1) + 1


def _conv_bn(c_in: int, c_out: int, kernel, act: nn.Module, stride=(1, 1), padding=(0, 0)) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding), act, nn.BatchNorm2d(c_out)]


class DeepLOBNet(nn.Module):
    """DeepLOB: convolutions over the book's levels, an Inception module and an LSTM (see :class:`DeepLOBConfig`)."""

    def __init__(self, cfg: DeepLOBConfig):
        super().__init__()
        self.cfg = cfg
        C, K, s = cfg.conv_channels, cfg.time_kernel, cfg.leaky_slope

        def lrelu():
            return nn.LeakyReLU(s)

        self.block1 = nn.Sequential(
            *_conv_bn(1, C, (1, 2), lrelu(), stride=(1, 2)),  # (price, size) pairs -> (B, C, L, 2 * levels)
            *_conv_bn(C, C, (K, 1), lrelu()),
            *_conv_bn(C, C, (K, 1), lrelu()),
        )
        self.block2 = nn.Sequential(
            *_conv_bn(C, C, (1, 2), nn.Tanh(), stride=(1, 2)),  # (ask, bid) pairs -> (B, C, L', levels)
            *_conv_bn(C, C, (K, 1), nn.Tanh()),
            *_conv_bn(C, C, (K, 1), nn.Tanh()),
        )
        self.block3 = nn.Sequential(
            *_conv_bn(C, C, (1, cfg.levels), lrelu()),  # all levels -> (B, C, L'', 1)
            *_conv_bn(C, C, (K, 1), lrelu()),
            *_conv_bn(C, C, (K, 1), lrelu()),
        )
        inc = cfg.inception_channels
        self.inception_3 = nn.Sequential(
            *_conv_bn(C, inc, (1, 1), lrelu()), *_conv_bn(inc, inc, (3, 1), lrelu(), padding=(1, 0))
        )
        self.inception_5 = nn.Sequential(
            *_conv_bn(C, inc, (1, 1), lrelu()), *_conv_bn(inc, inc, (5, 1), lrelu(), padding=(2, 0))
        )
        self.inception_pool = nn.Sequential(
            nn.MaxPool2d((3, 1), stride=(1, 1), padding=(1, 0)), *_conv_bn(C, inc, (1, 1), lrelu())
        )
        self.lstm = nn.LSTM(3 * inc, cfg.lstm_hidden, num_layers=1, batch_first=True)
        self.fc = nn.Linear(cfg.lstm_hidden, cfg.n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, 4 * levels)`` -> ``(B, n_outputs)``."""
        h = x.unsqueeze(1)  # (B, 1, L, 4 * levels)
        h = self.block1(h)  # (B, C, L - 2(K-1), 2 * levels)
        h = self.block2(h)  # (B, C, L - 4(K-1), levels)
        h = self.block3(h)  # (B, C, T, 1), T = L - 6(K-1)
        h = torch.cat([self.inception_3(h), self.inception_5(h), self.inception_pool(h)], dim=1)  # (B, 3 inc, T, 1)
        h = h.squeeze(3).permute(0, 2, 1)  # (B, T, 3 inc)
        out, _ = self.lstm(h)  # (B, T, hidden)
        return self.fc(out[:, -1])  # (B, n_outputs)


class MidRelativePrices(nn.Module):
    """Order-book rows with every price replaced by its distance from the row's own mid, in basis points.

    The input is the raw book in LOBSTER's order (``ask_price_i, ask_size_i, bid_price_i, bid_size_i`` for
    ``i = 1..levels``): prices are the even columns, the mid is ``(ask_price_1 + bid_price_1) / 2`` of the same row,
    and a price becomes ``(price - mid) / mid * 1e4``; sizes pass unchanged. Each row is transformed on its own (no
    statistics, nothing from other rows), so the result does not depend on the price level: multiplying every price
    by a constant leaves it unchanged. The same module serves NumPy inputs and the ONNX graph.
    """

    def __init__(self, levels: int):
        super().__init__()
        is_price = torch.zeros(4 * levels, dtype=torch.bool)
        is_price[0::2] = True
        self.register_buffer("is_price", is_price, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., 4 * levels)`` -> same shape."""
        mid = (x[..., 0:1] + x[..., 2:3]) / 2  # (..., 1): level-1 ask and bid of the same row
        relative = (x - mid) / mid * 1e4  # (..., 4 * levels), meaningful in the price columns
        return torch.where(self.is_price, relative, x)


class LogSizes(nn.Module):
    """Order-book rows with every size replaced by ``log1p(size)``; prices pass unchanged.

    Sizes are the odd columns of LOBSTER's order (``ask_size_i``, ``bid_size_i``). Queue sizes are heavy-tailed (a few
    orders of a hundred shares, now and then tens of thousands), so z-scored raw sizes are mostly near zero with rare
    huge values that dominate the first layer; their logarithm has a spread of a few units at every level. Each row is
    transformed on its own (nothing from other rows), in the NumPy path and the ONNX graph alike; a negative size
    (not in a valid book) counts as 0.
    """

    def __init__(self, levels: int):
        super().__init__()
        is_size = torch.zeros(4 * levels, dtype=torch.bool)
        is_size[1::2] = True
        self.register_buffer("is_size", is_size, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., 4 * levels)`` -> same shape."""
        return torch.where(self.is_size, torch.log1p(x.clamp(min=0)), x)
