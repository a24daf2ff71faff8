"""The neural signal models: ``lstm``, ``transformer``, ``multitask_lstm``, ``lstm_regressor``, ``deeplob``, ...

The window models and ``stateful_lstm`` (no window: a recurrent state carried over each run of finite rows).

Each is a :class:`~signalbench.signals.torch_model.TorchSignalModel`: hyperparameters declared once from shared groups
(the window length, an architecture, the training settings of :mod:`signalbench.signals.training`, the device and
seed), the network of :mod:`signalbench.signals.nets` named by its :class:`~signalbench.signals.torch_model.Network`,
the training loop of :mod:`signalbench.signals.training` (``docs/architecture.md``, "Signal models"). Every class
docstring ends with the full list of its hyperparameters, defaults and rules.
"""

from __future__ import annotations

import numpy as np
import torch

from signalbench import _validation as v
from signalbench.signals.book_input import BOOK_INPUT, BookModel
from signalbench.signals.inputs import as_vector
from signalbench.signals.nets import (
    DeepLOBConfig,
    DeepLOBNet,
    LSTMConfig,
    LSTMNet,
    MultiTaskLSTMNet,
    StatefulLSTMConfig,
    StatefulLSTMNet,
    TransformerConfig,
    TransformerNet,
)
from signalbench.signals.params import Bool, Choice, Float, Int, Param, declare
from signalbench.signals.stepping import OrtStateful
from signalbench.signals.tbptt import run_outputs, train_tbptt
from signalbench.signals.torch_model import CLASS_WEIGHT, NEURAL, TRAINING, Network, TorchSignalModel
from signalbench.signals.torch_stepping import TorchStateful
from signalbench.signals.training import multitask_loss, resolve_device

__all__ = ["DeepLOBModel", "LSTMModel", "LSTMRegressor", "MultiTaskLSTM", "StatefulLSTM", "TransformerModel"]

_DROPOUT = Float(low=0.0, high=1.0, high_open=True)

WINDOW = {"seq_len": Param(50, Int(minimum=1), "Window length: output row t reads rows t - seq_len + 1 .. t.")}

LSTM_LAYERS = {
    "hidden_size": Param(64, Int(minimum=1), "LSTM units per direction."),
    "num_layers": Param(2, Int(minimum=1), "Stacked LSTM layers."),
    "head_size": Param(32, Int(minimum=0), "Hidden units of the MLP head (0: a linear layer)."),
    "dropout": Param(0.2, _DROPOUT, "Dropout between LSTM layers, after pooling and in the head."),
}

LSTM_READING = {
    "bidirectional": Param(True, Bool(), "Also read the window backwards (inside the window only)."),
    "pooling": Param(
        "attention",
        Choice(("attention", "last", "mean")),
        "Per-step outputs to one vector: learned attention weights, the last step, or the mean.",
    ),
    "batch_norm": Param(False, Bool(), "Batch norm on the pooled vector."),
}

TRANSFORMER = {
    "d_model": Param(64, Int(minimum=1), "Model width."),
    "nhead": Param(4, Int(minimum=1), "Attention heads (must divide d_model)."),
    "num_layers": Param(2, Int(minimum=1), "Encoder layers."),
    "dim_feedforward": Param(128, Int(minimum=1), "Feed-forward width inside each layer."),
    "dropout": Param(0.1, _DROPOUT, "Dropout in the layers and the head."),
    "head_size": Param(32, Int(minimum=0), "Hidden units of the MLP head (0: a linear layer)."),
}

STATEFUL_LSTM = {
    "hidden_size": Param(64, Int(minimum=1), "LSTM units."),
    "num_layers": Param(2, Int(minimum=1), "Stacked LSTM layers."),
    "dropout": Param(0.0, _DROPOUT, "Dropout between LSTM layers and before the head (training only)."),
    "tbptt_len": Param(
        100, Int(minimum=1), "Rows per chunk of truncated backpropagation through time (gradients stop at its edge)."
    ),
}

AUXILIARY = {"aux_weight": Param(1.0, Float(low=0.0), "Weight of the auxiliary (mean squared error) loss.")}

DEEPLOB = {
    "conv_channels": Param(32, Int(minimum=1), "Filters of the convolution blocks."),
    "inception_channels": Param(64, Int(minimum=1), "Filters per Inception branch."),
    "lstm_hidden": Param(64, Int(minimum=1), "LSTM units."),
    "time_kernel": Param(4, Int(minimum=1), "Temporal kernel of the convolution blocks."),
}


class LSTMModel(TorchSignalModel):
    """LSTM direction classifier.

    An LSTM reads the window (optionally in both directions, inside the window only), the per-step outputs are pooled
    (attention weights, the last step or the mean), optionally batch-normalized, and an MLP head gives class logits.
    The defaults are a 2-layer bidirectional LSTM with attention pooling and a head of 32 units. Other common variants:
    a one-layer LSTM read at its last step with batch norm (``num_layers=1, bidirectional=False, pooling="last",
    batch_norm=True``), and the plain LSTM with a linear layer on its last step (``bidirectional=False,
    pooling="last", head_size=0``).
    """

    name = "lstm"
    task = "classification"
    network = Network(LSTMConfig, LSTMNet)
    hyperparameters = declare(WINDOW, LSTM_LAYERS, LSTM_READING, TRAINING, CLASS_WEIGHT, NEURAL)


class TransformerModel(TorchSignalModel):
    """Transformer classifier: input projection, sinusoidal positions, encoder layers, head on the newest step."""

    name = "transformer"
    task = "classification"
    network = Network(TransformerConfig, TransformerNet)
    hyperparameters = declare(WINDOW, TRANSFORMER, TRAINING, CLASS_WEIGHT, NEURAL)

    @classmethod
    def _check_combination(cls, params: dict) -> None:
        if params["d_model"] % params["nhead"]:
            raise ValueError(
                v.expected("nhead", f"a divisor of d_model = {params['d_model']}", params["nhead"], raw=True)
            )


class LSTMRegressor(TorchSignalModel):
    """Next-return regressor: a stacked LSTM, a linear layer on the last step, one value per row.

    Fit it on a future return (e.g. :func:`signalbench.data.labels.forward_log_return`): a return is stationary where
    a price is not. Targets are standardized with the training rows' mean and standard deviation for the loss (mean
    squared error) and ``predict`` returns the forecast in the target's units.
    """

    name = "lstm_regressor"
    task = "regression"
    network = Network(LSTMConfig, LSTMNet, fixed={"bidirectional": False, "pooling": "last", "batch_norm": False})
    hyperparameters = declare(
        WINDOW, LSTM_LAYERS, TRAINING, NEURAL, seq_len=60, hidden_size=128, head_size=0, dropout=0.0, epochs=50,
        batch_size=64,
    )  # fmt: skip


class MultiTaskLSTM(TorchSignalModel):
    """Multi-task LSTM: direction classes plus an auxiliary forecast (e.g. the spread change) from one encoder.

    ``fit(X, y)`` takes ``y`` with two columns, ``(n, 2)`` array or DataFrame: column 0 the direction class
    (e.g. :func:`signalbench.data.labels.direction`), column 1 the auxiliary target (e.g.
    :func:`signalbench.data.labels.spread_change`). The loss is cross-entropy plus ``aux_weight`` times the mean
    squared error of the standardized auxiliary target. :meth:`predict_proba` gives the direction probabilities,
    :meth:`predict_aux` the auxiliary forecast in its own units. The defaults read a plain 2-layer LSTM at its last
    step.
    """

    name = "multitask_lstm"
    task = "classification"
    network = Network(LSTMConfig, MultiTaskLSTMNet)
    hyperparameters = declare(
        WINDOW, LSTM_LAYERS, LSTM_READING, AUXILIARY, TRAINING, CLASS_WEIGHT, NEURAL, bidirectional=False,
        pooling="last",
    )  # fmt: skip

    def _encode_targets(self, y, n, name, *, fitting):
        y = v.numeric_array(y, name, ndim=(1, 2))[0]
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(
                v.expected(
                    name,
                    "two columns (the direction class and an auxiliary target such as the spread change)",
                    f"shape {y.shape}",
                    raw=True,
                )
            )
        direction = super()._encode_targets(y[:, 0], n, name + "[:, 0]", fitting=fitting)
        aux = as_vector(y[:, 1], name + "[:, 1]", n)
        return np.column_stack([direction, aux])

    def _training_targets(self, y, rows):
        aux = y[rows, 1]
        sd = float(np.std(aux))
        self.target_mean_ = float(np.mean(aux))
        self.target_scale_ = sd if sd > 0 else 1.0
        return self._apply_target_transform(y)

    def _apply_target_transform(self, y):
        out = y.astype(np.float64)  # a copy
        out[:, 1] = (out[:, 1] - self.target_mean_) / self.target_scale_
        return out.astype(np.float32)

    def _criterion(self, y, rows):
        return multitask_loss(len(self.classes_), float(self.aux_weight), self._class_weights(y[:, 0], rows))

    def _n_outputs(self) -> int:
        return len(self.classes_) + 1

    def _transform_output(self, out):
        k = len(self.classes_)
        probs = torch.softmax(out[:, :k].double(), dim=1)  # (B, k)
        aux = out[:, k:].double() * self.target_scale_ + self.target_mean_  # (B, 1)
        return torch.cat([probs, aux], dim=1)

    def predict_proba(self, X) -> np.ndarray:
        """Direction probabilities ``(n, k)``; see :meth:`SignalModel.predict_proba`."""
        return self._outputs(X)[:, : len(self.classes_)]

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


class DeepLOBModel(BookModel):
    """DeepLOB (Zhang, Zohren and Roberts 2019) for multi-level order-book input.

    **Expected features**: the raw book, 4 columns per level in LOBSTER's order (what
    :func:`signalbench.data.load_lobster` returns): ``ask_price_1, ask_size_1, bid_price_1, bid_size_1,
    ask_price_2, ...`` up to ``bid_size_L``, so ``F = 4 * L``. A DataFrame must have exactly these names in this order
    (``df[DeepLOBModel.book_columns(L)]`` selects them); a plain array must have ``4 * L`` columns in this order.
    Empty levels (NaN) make a window unusable, so choose ``L`` such that the book is full.

    **Prices are scale-free** (``price_input="mid_bps"``, the default): each price becomes its distance from the same
    row's mid, ``(price - mid) / mid`` in basis points (:class:`~signalbench.signals.nets.MidRelativePrices`), using
    that row only. Then every column is z-scored with the training rows' statistics. A test day whose prices lie
    outside the training range therefore looks like the training days (with raw prices it would sit far outside the
    training distribution and the network would answer with one class); the price *level* and its moves inside the
    window are not seen, only the book's shape and sizes. ``price_input="raw"`` z-scores the raw prices (the paper
    normalizes with the previous days' statistics); files saved before this option load as ``"raw"``.

    **Defaults that train in minutes on 2 CPU cores**: an epoch is 10,000 random training windows
    (``max_windows_per_epoch``; a full LOBSTER day is 60,000-100,000 and took over 3 minutes an epoch), at most 10
    epochs with early stopping on the validation loss, and balanced class weights (``class_weight="balanced"``:
    otherwise the largest class of a day, often "down" or "stationary", is the easy answer the network settles on in
    its first epoch), and the paper's learning rate 0.01: at 0.001-0.003 the loss sits at ln 3 (a uniform guess)
    for several epochs (``benchmarks/README.md``). ``history_`` keeps the learning curve (train and validation loss
    per epoch), which the report plots.

    The unpadded temporal convolutions need ``seq_len >= 6 * (time_kernel - 1) + 1`` (19 with the paper's kernel 4;
    the paper uses 100 events).
    """

    name = "deeplob"
    task = "classification"
    network = Network(DeepLOBConfig, DeepLOBNet)
    hyperparameters = declare(
        WINDOW, DEEPLOB, BOOK_INPUT, TRAINING, CLASS_WEIGHT, NEURAL, seq_len=100, batch_size=64, epochs=10,
        max_windows_per_epoch=10_000, class_weight="balanced", lr=1e-2,
    )  # fmt: skip
    legacy_defaults = {"price_input": "raw", "size_input": "raw"}

    @classmethod
    def _check_combination(cls, params: dict) -> None:
        need = 6 * (params["time_kernel"] - 1) + 1
        if params["seq_len"] < need:
            raise ValueError(
                v.expected(
                    "seq_len",
                    f"at least 6 * (time_kernel - 1) + 1 = {need} for DeepLOB's unpadded convolutions "
                    f"(time_kernel={params['time_kernel']})",
                    params["seq_len"],
                    raw=True,
                )
            )

    def _network_inputs(self) -> dict:
        return {"levels": int(self.n_features_in_) // 4, "n_outputs": len(self.classes_)}


class StatefulLSTM(TorchSignalModel):
    """Stateful LSTM direction classifier: a unidirectional LSTM carried from row to row, a linear head on ``h_t``.

    **No window.** Row ``t``'s probabilities are ``softmax(head(h_t))`` after the LSTM has read every row of its run,
    ``s .. t``, from zero state, where a *run* is a maximal stretch of consecutive finite rows: a row holding a NaN
    (every day starts with the features' NaN warm-up) gets NaN and restarts the state, so days start afresh. So
    ``window`` is 1, ``stateful`` is True, and the context a prediction needs is the run before it
    (:meth:`~signalbench.signals.base.SignalModel.context_start`), not a fixed number of rows: predicting a slice that
    starts inside a run gives other numbers than predicting the whole run.

    **Training** is truncated backpropagation through time over contiguous chunks of ``tbptt_len`` rows in
    ``batch_size`` parallel lanes, the state carried (detached) from chunk to chunk within a run and reset where a row
    is not finite; the exact policy is in :mod:`signalbench.signals.tbptt`. ``batch_size`` is the number of lanes and
    ``max_windows_per_epoch`` caps the labelled rows per epoch. Validation (early stopping) runs the prediction
    recurrence over the validation rows.

    **Streaming.** ``stepper("stateful")`` carries ``(h, c)`` one row at a time (torch, or onnxruntime on the
    single-step graph of :func:`signalbench.signals.onnx.step_graph`) and gives ``predict_proba`` row for row.
    """

    name = "stateful_lstm"
    task = "classification"
    stateful = True
    network = Network(StatefulLSTMConfig, StatefulLSTMNet)
    hyperparameters = declare(STATEFUL_LSTM, TRAINING, CLASS_WEIGHT, NEURAL, batch_size=16, predict_batch_size=4096)

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        """Scaled float32 copy of ``X`` that keeps NaN: a non-finite row ends a run (the state restarts after it)."""
        out = np.empty(X.shape, dtype=np.float32)
        for lo in range(0, X.shape[0], 1 << 16):  # bounded float64 temporaries, as SignalModel._prepare
            out[lo : lo + (1 << 16)] = (X[lo : lo + (1 << 16)] - self.scaler_mean_) / self.scaler_scale_
        return out

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """See :meth:`SignalModel.fit_prepared`: truncated BPTT over the runs (:mod:`signalbench.signals.tbptt`)."""
        device = resolve_device(self.device)
        targets = self._training_targets(y, rows)
        criterion = self._criterion(y, rows)
        labelled = np.zeros(X.shape[0], dtype=bool)
        labelled[rows] = True
        config = self._net_config()
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(int(self.seed))
            net = self._build_network(config).to(device)
            validate = None if val is None else self._validator(net, val, criterion, device)
            history = train_tbptt(
                net, X=X, targets=targets, labelled=labelled, tbptt_len=int(self.tbptt_len), criterion=criterion,
                config=self._train_config(), seed=int(self.seed), device=device, validate=validate,
                description=self.name, callback=callback,
            )  # fmt: skip
        self.net_ = net.eval()
        self.net_config_ = config
        self.history_ = history
        self.device_ = device

    def _validator(self, net, val, criterion, device):
        Xv, yv, rows_v = val
        target = torch.from_numpy(yv[rows_v].astype(np.float32))

        def validate() -> tuple[float, float]:
            net.eval()
            logits = torch.from_numpy(run_outputs(net, Xv, int(self.predict_batch_size), device)[rows_v])
            with torch.inference_mode():
                loss, correct = criterion(logits, target)
            return float(loss), int(correct) / rows_v.size

        return validate

    def predict_prepared(self, X: np.ndarray, start: int) -> np.ndarray:
        """See :meth:`SignalModel.predict_prepared`: the network over each run from zero state."""
        if self.net_.training:
            raise RuntimeError("network is in training mode")
        logits = run_outputs(self.net_, X[start:], int(self.predict_batch_size), self.device_)
        with torch.inference_mode():
            return self._transform_output(torch.from_numpy(logits)).numpy()

    def _step_engine(self, mode: str, backend: str):
        if backend == "torch":
            return TorchStateful(self)
        return OrtStateful(self, self._onnx_graph("step"))
