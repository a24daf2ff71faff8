"""Network modules of the published order-book architectures BiN-CTABL, TLOB and MLPLOB, and their configurations.

Written from the papers' descriptions (no code copied). As every network of :mod:`signalbench.signals.nets`, each maps
a batch of windows ``(batch, seq_len, F)`` (oldest row first) to ``(batch, n_outputs)`` logits and sees nothing outside
its window: the normalisation statistics of :class:`BiN` are those of the window itself, and the attention over time
mixes the window's rows only. Nothing here uses batch statistics, so an output does not depend on the other windows
of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from signalbench.signals.nets import sinusoidal_encoding

__all__ = [
    "BiN",
    "BiNCTABLConfig",
    "BiNCTABLNet",
    "Bilinear",
    "MLPLOBConfig",
    "MLPLOBNet",
    "TABL",
    "TLOBConfig",
    "TLOBNet",
]

_EPS = 1e-5


def _standardize(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps)`` along ``dim`` (population variance; a constant line becomes 0)."""
    mean = x.mean(dim=dim, keepdim=True)
    var = x.var(dim=dim, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + _EPS)


class BiN(nn.Module):
    """Bilinear normalisation (Tran, Kanniainen, Gabbouj and Iosifidis 2021) of one window.

    The window ``X`` (``T`` steps x ``D`` features) is standardised twice: each feature over the window's ``T`` steps
    (then scaled and shifted per feature, ``gamma_f, beta_f`` of size ``D``) and each step over its ``D`` features
    (``gamma_t, beta_t`` of size ``T``). The output is ``lambda_f * X_f + lambda_t * X_t`` with two learned scalars
    (initialised to 0.5). The statistics come from the window alone, so it adapts to the level and the spread of the
    inputs through the day without using anything outside the window.
    """

    def __init__(self, seq_len: int, n_features: int):
        super().__init__()
        self.gamma_f = nn.Parameter(torch.ones(n_features))
        self.beta_f = nn.Parameter(torch.zeros(n_features))
        self.gamma_t = nn.Parameter(torch.ones(seq_len, 1))
        self.beta_t = nn.Parameter(torch.zeros(seq_len, 1))
        self.lambdas = nn.Parameter(torch.full((2,), 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)`` -> ``(B, T, D)``."""
        over_time = _standardize(x, dim=1) * self.gamma_f + self.beta_f  # each feature over the T steps
        over_features = _standardize(x, dim=2) * self.gamma_t + self.beta_t  # each step over the D features
        return self.lambdas[0] * over_time + self.lambdas[1] * over_features


class Bilinear(nn.Module):
    """Bilinear layer ``Y = act(W1 X W2 + B)``: ``X`` is ``D x T``, ``W1`` is ``D' x D``, ``W2`` is ``T x T'``."""

    def __init__(self, d_in: int, t_in: int, d_out: int, t_out: int, dropout: float):
        super().__init__()
        self.w1 = nn.Linear(d_in, d_out, bias=False)  # mixes features
        self.w2 = nn.Linear(t_in, t_out, bias=False)  # mixes steps
        self.bias = nn.Parameter(torch.zeros(d_out, t_out))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D, T)`` -> ``(B, D', T')``."""
        h = self.w1(x.transpose(1, 2)).transpose(1, 2)  # (B, D', T)
        return self.drop(torch.relu(self.w2(h) + self.bias))  # (B, D', T')


class TABL(nn.Module):
    """Temporal attention augmented bilinear layer (Tran, Iosifidis, Kanniainen and Gabbouj 2018).

    ``Xb = W1 X`` (``D' x T``); attention scores ``E = Xb W`` with ``W`` a ``T x T`` matrix whose diagonal is fixed at
    ``1 / T``; ``A = softmax(E)`` over the steps of each feature; ``Xt = lambda * (Xb * A) + (1 - lambda) * Xb`` with
    ``lambda`` learned in [0, 1] (clamped); ``Y = Xt W2 + B`` (no activation: the last layer gives logits).
    """

    def __init__(self, d_in: int, t_in: int, d_out: int, t_out: int):
        super().__init__()
        self.w1 = nn.Linear(d_in, d_out, bias=False)
        self.w = nn.Parameter(torch.full((t_in, t_in), 1.0 / t_in))
        self.register_buffer("off_diagonal", 1.0 - torch.eye(t_in), persistent=False)
        self.lam = nn.Parameter(torch.tensor(0.5))
        self.w2 = nn.Linear(t_in, t_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(d_out, t_out))

    def attention(self, xb: torch.Tensor) -> torch.Tensor:
        """The weights ``A`` ``(B, D', T)`` of the projected input ``Xb`` (each row sums to 1 over the steps)."""
        t_in = self.w.shape[0]
        w = self.w * self.off_diagonal + (1.0 - self.off_diagonal) / t_in  # (T, T), diagonal fixed at 1 / T
        return torch.softmax(xb @ w, dim=-1)  # (B, D', T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, D, T)`` -> ``(B, D', T')``."""
        xb = self.w1(x.transpose(1, 2)).transpose(1, 2)  # (B, D', T)
        lam = self.lam.clamp(0.0, 1.0)
        xt = lam * xb * self.attention(xb) + (1 - lam) * xb  # (B, D', T)
        return self.w2(xt) + self.bias  # (B, D', T')


@dataclass(frozen=True)
class BiNCTABLConfig:
    """BiN-CTABL: BiN, two bilinear layers and a TABL output layer (LOBCAST, Prata et al. 2024; Tran et al. 2018).

    Attributes
    ----------
    n_features : int
        Input width ``D`` (40 for a 10-level book).
    n_outputs : int
        Classes.
    seq_len : int
        Window length ``T`` (10 in the papers).
    hidden_features, hidden_steps : int
        Shape of the first bilinear layer's output (``60 x 10`` in the papers).
    second_features, second_steps : int
        Shape of the second (``120 x 5``).
    dropout : float
        Dropout after each bilinear layer (0.1).
    """

    n_features: int
    n_outputs: int
    seq_len: int
    hidden_features: int = 60
    hidden_steps: int = 10
    second_features: int = 120
    second_steps: int = 5
    dropout: float = 0.1


class BiNCTABLNet(nn.Module):
    """BiN -> Bilinear -> Bilinear -> TABL (``n_outputs x 1``): see :class:`BiNCTABLConfig`."""

    def __init__(self, cfg: BiNCTABLConfig):
        super().__init__()
        self.cfg = cfg
        self.bin = BiN(cfg.seq_len, cfg.n_features)
        self.bl1 = Bilinear(cfg.n_features, cfg.seq_len, cfg.hidden_features, cfg.hidden_steps, cfg.dropout)
        self.bl2 = Bilinear(cfg.hidden_features, cfg.hidden_steps, cfg.second_features, cfg.second_steps, cfg.dropout)
        self.tabl = TABL(cfg.second_features, cfg.second_steps, cfg.n_outputs, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)`` -> ``(B, n_outputs)``."""
        h = self.bin(x).transpose(1, 2)  # (B, D, T): features x steps, as the papers write X
        h = self.bl2(self.bl1(h))  # (B, 120, 5)
        return self.tabl(h)[:, :, 0]  # (B, n_outputs)


@dataclass(frozen=True)
class TLOBConfig:
    """TLOB (Berti and Kasneci 2025): BiN, an embedding, blocks of attention over time then over features, an MLP.

    Attributes
    ----------
    n_features : int
        Input width ``F``.
    n_outputs : int
        Classes.
    seq_len : int
        Window length ``T`` (128 in the paper).
    hidden : int
        Embedding width ``d`` (40 in the paper).
    num_layers : int
        Dual-attention blocks (4 in the paper).
    nhead : int
        Heads of the attention over time (must divide ``hidden``); the attention over features has one head.
    dropout : float
        Dropout in the blocks and the head.
    """

    n_features: int
    n_outputs: int
    seq_len: int
    hidden: int = 40
    num_layers: int = 4
    nhead: int = 1
    dropout: float = 0.1


def _encoder_layer(width: int, nhead: int, dropout: float) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(width, nhead, dim_feedforward=4 * width, dropout=dropout, batch_first=True)


def _flat_head(n_in: int, n_out: int, dropout: float) -> nn.Module:
    """Flattened window -> a hidden layer of ``n_in // 4`` (at least 8) -> logits (the papers' reducing head)."""
    hidden = max(8, n_in // 4)
    layers = [nn.Flatten(), nn.Linear(n_in, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_out)]
    return nn.Sequential(*layers)


class TLOBNet(nn.Module):
    """TLOB's dual attention: tokens are the steps (width ``hidden``), then the ``hidden`` features (width ``T``)."""

    def __init__(self, cfg: TLOBConfig):
        super().__init__()
        self.cfg = cfg
        self.bin = BiN(cfg.seq_len, cfg.n_features)
        self.embed = nn.Linear(cfg.n_features, cfg.hidden)
        self.register_buffer("pe", sinusoidal_encoding(cfg.seq_len, cfg.hidden), persistent=False)
        n = cfg.num_layers
        self.over_time = nn.ModuleList(_encoder_layer(cfg.hidden, cfg.nhead, cfg.dropout) for _ in range(n))
        self.over_features = nn.ModuleList(_encoder_layer(cfg.seq_len, 1, cfg.dropout) for _ in range(n))
        self.head = _flat_head(cfg.seq_len * cfg.hidden, cfg.n_outputs, cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, F)`` -> ``(B, n_outputs)``."""
        h = self.embed(self.bin(x)) + self.pe  # (B, T, d)
        for time_layer, feature_layer in zip(self.over_time, self.over_features, strict=True):
            h = time_layer(h)  # (B, T, d): each step attends to the window's steps
            h = feature_layer(h.transpose(1, 2)).transpose(1, 2)  # (B, T, d): each feature attends to the features
        return self.head(h)  # (B, n_outputs)


@dataclass(frozen=True)
class MLPLOBConfig:
    """MLPLOB (Berti and Kasneci 2025): TLOB with each attention replaced by an MLP over the same axis.

    Attributes
    ----------
    n_features : int
        Input width ``F``.
    n_outputs : int
        Classes.
    seq_len : int
        Window length ``T``.
    hidden : int
        Embedding width ``d``.
    num_layers : int
        Mixing blocks (3 in the paper).
    dropout : float
        Dropout in the blocks and the head.
    """

    n_features: int
    n_outputs: int
    seq_len: int
    hidden: int = 40
    num_layers: int = 3
    dropout: float = 0.1


class _Mixer(nn.Module):
    """``x + MLP(LayerNorm(x))`` along the last axis (width ``n``, expansion 4, GELU)."""

    def __init__(self, n: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(n)
        self.mlp = nn.Sequential(nn.Linear(n, 4 * n), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * n, n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., n)`` -> same shape."""
        return x + self.mlp(self.norm(x))


class MLPLOBNet(nn.Module):
    """MLPLOB: BiN, an embedding, blocks that mix each step's features then each feature's steps, a flat head."""

    def __init__(self, cfg: MLPLOBConfig):
        super().__init__()
        self.cfg = cfg
        self.bin = BiN(cfg.seq_len, cfg.n_features)
        self.embed = nn.Linear(cfg.n_features, cfg.hidden)
        self.over_features = nn.ModuleList(_Mixer(cfg.hidden, cfg.dropout) for _ in range(cfg.num_layers))
        self.over_time = nn.ModuleList(_Mixer(cfg.seq_len, cfg.dropout) for _ in range(cfg.num_layers))
        self.head = _flat_head(cfg.seq_len * cfg.hidden, cfg.n_outputs, cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, F)`` -> ``(B, n_outputs)``."""
        h = self.embed(self.bin(x))  # (B, T, d)
        for feature_mix, time_mix in zip(self.over_features, self.over_time, strict=True):
            h = feature_mix(h)  # (B, T, d): within each step
            h = time_mix(h.transpose(1, 2)).transpose(1, 2)  # (B, T, d): within each feature, across the steps
        return self.head(h)  # (B, n_outputs)
