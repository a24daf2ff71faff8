"""Published order-book architectures as signal models: ``binctabl``, ``tlob`` and ``mlplob``.

Each reads the raw book as DeepLOB does (:class:`~signalbench.signals.book_input.BookModel`: LOBSTER's column order,
prices relative to the row's mid, log sizes, z-scores fitted on the training rows), is trained by the shared loop of
:mod:`signalbench.signals.training` and steps one row at a time in ``"window"`` mode (torch or onnxruntime), as every
window model. None is stateful: each attends over (or mixes) its whole window at once, so a new row changes what the
network computes for every step of the window and there is no recurrent state to carry from row to row.

The networks (:mod:`signalbench.signals.lob_nets`) are written from the papers' descriptions, not from their code.
Every class docstring names its source, its hyperparameters and what was simplified.
"""

from __future__ import annotations

from signalbench import _validation as v
from signalbench.signals.book_input import BOOK_INPUT, BookModel
from signalbench.signals.lob_nets import (
    BiNCTABLConfig,
    BiNCTABLNet,
    MLPLOBConfig,
    MLPLOBNet,
    TLOBConfig,
    TLOBNet,
)
from signalbench.signals.params import Float, Int, Param, declare
from signalbench.signals.torch_model import CLASS_WEIGHT, NEURAL, TRAINING, Network

__all__ = ["BiNCTABLModel", "MLPLOBModel", "TLOBModel"]

_DROPOUT = Float(low=0.0, high=1.0, high_open=True)
_WINDOW_DOC = "Window length: output row t reads rows t - seq_len + 1 .. t."

BINCTABL = {
    "seq_len": Param(10, Int(minimum=2), _WINDOW_DOC),
    "hidden_features": Param(60, Int(minimum=1), "Features of the first bilinear layer's output."),
    "hidden_steps": Param(10, Int(minimum=1), "Steps of the first bilinear layer's output."),
    "second_features": Param(120, Int(minimum=1), "Features of the second bilinear layer's output."),
    "second_steps": Param(5, Int(minimum=1), "Steps of the second bilinear layer's output."),
    "dropout": Param(0.1, _DROPOUT, "Dropout after each bilinear layer."),
}

DUAL_AXIS = {
    "seq_len": Param(128, Int(minimum=2), _WINDOW_DOC),
    "hidden": Param(40, Int(minimum=1), "Embedding width (the features the second axis of attention or mixing sees)."),
    "dropout": Param(0.1, _DROPOUT, "Dropout in the blocks and the head."),
}

TLOB = {
    "num_layers": Param(4, Int(minimum=1), "Dual-attention blocks (over time, then over features)."),
    "nhead": Param(1, Int(minimum=1), "Heads of the attention over time (must divide hidden)."),
}

MLPLOB = {"num_layers": Param(3, Int(minimum=1), "Mixing blocks (over features, then over time).")}

# Shared by the three: the book's transforms and the training loop. Each model caps its epochs at the windows that
# take about a minute on 2 CPU cores (estimated from step rates on GOOG's 5-level book; BiN-CTABL's 10-step window
# is ~30x cheaper than TLOB's 128 steps) and uses balanced class weights (else a day's largest class is the easy
# answer).
_BOOK_TRAINING = (BOOK_INPUT, TRAINING, CLASS_WEIGHT, NEURAL)


class BiNCTABLModel(BookModel):
    """BiN-CTABL: bilinear normalisation, two bilinear layers and a temporal-attention bilinear output layer.

    **Source.** The TABL network of Tran, Iosifidis, Kanniainen and Gabbouj, "Temporal Attention-Augmented Bilinear
    Network for Financial Time-Series Data Analysis" (IEEE TNNLS 30(5), 2019) in its C(TABL) configuration
    (``40 x 10 -> 60 x 10 -> 120 x 5 -> 3 x 1``), preceded by the bilinear normalisation (BiN) of Tran, Kanniainen,
    Gabbouj and Iosifidis, "Data Normalization for Bilinear Structures in High-Frequency Financial Time-Series"
    (ICPR 2020); the best model of LOBCAST's LOBSTER runs (Prata et al., "LOB-based deep learning models for stock
    price trend prediction: a benchmark study", Artificial Intelligence Review 57, 2024).
    The layers are :class:`~signalbench.signals.lob_nets.BiN`, :class:`~signalbench.signals.lob_nets.Bilinear`
    (ReLU, dropout) and :class:`~signalbench.signals.lob_nets.TABL` (logits, softmax in ``predict_proba``).

    **Simplified.** The papers' max-norm constraint on the weights is left out (gradient clipping instead); the
    attention weight ``lambda`` is clamped to [0, 1] in the forward pass instead of after each step; the input is the
    book after this library's per-row transforms and training z-scores (the papers z-score with previous days).
    Training uses the shared loop (Adam, learning rate halved on plateau, early stopping), not the papers' schedule.
    """

    name = "binctabl"
    task = "classification"
    network = Network(BiNCTABLConfig, BiNCTABLNet)
    hyperparameters = declare(
        BINCTABL, *_BOOK_TRAINING, epochs=20, batch_size=128, max_windows_per_epoch=100_000, class_weight="balanced"
    )


class TLOBModel(BookModel):
    """TLOB: a transformer whose blocks attend over the window's steps, then over its features.

    **Source.** Berti and Kasneci, "TLOB: A Novel Transformer Model with Dual Attention for Stock Price Trend
    Prediction with Limit Order Book Data" (2025). The window is normalised by BiN, embedded to ``hidden`` features
    with sinusoidal positions added, then each of ``num_layers`` blocks runs a transformer encoder layer whose tokens
    are the ``seq_len`` steps (width ``hidden``, ``nhead`` heads) and one whose tokens are the ``hidden`` features
    (width ``seq_len``, one head); the flattened result goes through an MLP head (one hidden layer of a quarter of
    its width, GELU) to the logits (:class:`~signalbench.signals.lob_nets.TLOBNet`).

    **Simplified.** The paper's head shrinks both axes step by step before flattening; here one hidden layer does it.
    The encoder layers are PyTorch's (post-norm, feed-forward 4x width, ReLU). Training uses the shared loop, not
    the paper's learning-rate schedule.
    """

    name = "tlob"
    task = "classification"
    network = Network(TLOBConfig, TLOBNet)
    hyperparameters = declare(
        DUAL_AXIS,
        TLOB,
        *_BOOK_TRAINING,
        epochs=10,
        batch_size=128,
        max_windows_per_epoch=8_000,
        class_weight="balanced",
    )

    @classmethod
    def _check_combination(cls, params: dict) -> None:
        if params["hidden"] % params["nhead"]:
            raise ValueError(
                v.expected("nhead", f"a divisor of hidden = {params['hidden']}", params["nhead"], raw=True)
            )


class MLPLOBModel(BookModel):
    """MLPLOB: TLOB's layout with each attention replaced by an MLP over the same axis (no attention at all).

    **Source.** The MLP counterpart introduced in the TLOB paper (Berti and Kasneci 2025). BiN, an embedding to
    ``hidden`` features, then ``num_layers`` blocks of two residual MLPs (layer norm, 4x expansion, GELU): the first
    mixes each step's features, the second each feature's steps; the same flat head as TLOB
    (:class:`~signalbench.signals.lob_nets.MLPLOBNet`).

    **Simplified.** As TLOB: one hidden layer in the head instead of the paper's gradual shrinking; the shared
    training loop.
    """

    name = "mlplob"
    task = "classification"
    network = Network(MLPLOBConfig, MLPLOBNet)
    hyperparameters = declare(
        DUAL_AXIS,
        MLPLOB,
        *_BOOK_TRAINING,
        epochs=10,
        batch_size=128,
        max_windows_per_epoch=20_000,
        class_weight="balanced",
    )
