"""The torch engines of :class:`signalbench.signals.stepping.Stepper` (``docs/architecture.md``, "Model steps").

:class:`TorchWindow` runs a neural model's network on one window, :class:`TorchStateful` one step of a stateful
LSTM carrying ``(h, c)``; both under ``torch.inference_mode`` on tensors allocated once, and on one intra-op thread
(:class:`one_thread`): a single row is too little work to share, and on a busy machine torch's thread pool waiting
for a second core made a step 10 to 30 times slower (24 ms instead of 0.8 ms under a load of 7 on 2 cores).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from signalbench.signals.stepping import check_state, prepare_rows, state_tensors_shape

__all__ = ["TorchStateful", "TorchWindow", "lstm_cells", "one_thread"]


class one_thread:  # noqa: N801 - used like a function: ``with one_thread():``
    """Run the block with ``torch.set_num_threads(1)``, then restore the caller's setting (about 0.2 us each way).

    The setting is process-wide: another Python thread running torch during a step also runs on one thread.
    """

    def __enter__(self) -> None:
        self.before = torch.get_num_threads()
        if self.before != 1:
            torch.set_num_threads(1)

    def __exit__(self, *exc) -> None:
        if self.before != 1:
            torch.set_num_threads(self.before)


class TorchWindow:
    """Window engine of a neural model: its network on a preallocated ``(1, seq_len, F)`` float32 tensor."""

    def __init__(self, model):
        self.model = model
        self.net = model.net_
        self.k = len(model.classes_) if model.task == "classification" else 1
        self.input = torch.zeros(1, int(model.window), int(model.n_features_in_), device=model.device_)

    def predict(self, window: np.ndarray) -> np.ndarray:
        """The output of the window's last row (its raw rows oldest first, all finite)."""
        z = torch.from_numpy(prepare_rows(self.model, window))
        with one_thread(), torch.inference_mode():
            self.input[0].copy_(z)
            out = self.model._transform_output(self.net(self.input))  # (1, d) float64
        return out[0, : self.k].cpu().numpy()

    def reset(self) -> None:
        """Nothing to forget (the window is the state)."""


def lstm_cells(lstm: nn.LSTM) -> list[nn.LSTMCell]:
    """One ``nn.LSTMCell`` per layer of a unidirectional ``lstm``, holding that layer's trained weights (copies)."""
    cells = []
    for k in range(lstm.num_layers):
        cell = nn.LSTMCell(lstm.input_size if k == 0 else lstm.hidden_size, lstm.hidden_size)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(lstm, f"{name}_l{k}").detach())
        cells.append(cell.to(lstm.weight_ih_l0.device).eval())
    return cells


class TorchStateful:
    """Stateful engine: the model's LSTM as one ``nn.LSTMCell`` per layer (its trained weights), ``(h, c)`` carried.

    The same weights and equations as the ``nn.LSTM`` that ``predict_proba`` runs over whole runs; a cell per layer
    skips the sequence machinery of ``nn.LSTM`` (about 3x faster for one row), and the head is the model's own.
    """

    def __init__(self, model):
        self.model = model
        self.cells = lstm_cells(model.net_.lstm)
        self.head = model.net_.head
        layers, hidden = state_tensors_shape(model)
        device = model.device_
        self.input = torch.zeros(1, int(model.n_features_in_), device=device)
        self.h = torch.zeros(layers, 1, hidden, device=device)
        self.c = torch.zeros(layers, 1, hidden, device=device)

    def step(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of one finite raw row; advances ``(h, c)``."""
        z = torch.from_numpy(prepare_rows(self.model, x[None]))
        with one_thread(), torch.inference_mode():
            self.input.copy_(z)
            z = self.input
            for k, cell in enumerate(self.cells):
                h, c = cell(z, (self.h[k], self.c[k]))  # (1, H) each
                self.h[k].copy_(h)
                self.c[k].copy_(c)
                z = h
            out = self.model._transform_output(self.head(z))  # (1, k) float64
        return out[0].cpu().numpy()

    def reset(self) -> None:
        """Zero state."""
        self.h.zero_()
        self.c.zero_()

    def get_state(self) -> dict[str, np.ndarray]:
        """``h`` and ``c`` as ``(num_layers, hidden_size)`` float32 copies."""
        return {"h": self.h[:, 0].cpu().numpy().copy(), "c": self.c[:, 0].cpu().numpy().copy()}

    def set_state(self, state: dict) -> None:
        """Restore ``h`` and ``c``."""
        h, c = check_state(state, tuple(self.h[:, 0].shape))
        with torch.inference_mode():
            self.h[:, 0].copy_(torch.from_numpy(h))
            self.c[:, 0].copy_(torch.from_numpy(c))
