"""The torch engines of :class:`signalbench.signals.stepping.Stepper` (``docs/architecture.md``, "Model steps").

:class:`TorchWindow` runs a neural model's network on one window, :class:`TorchStateful` one step of a stateful
LSTM carrying ``(h, c)``; both under ``torch.inference_mode`` on tensors allocated once.
"""

from __future__ import annotations

import numpy as np
import torch

from signalbench.signals.stepping import check_state, prepare_rows, state_tensors_shape

__all__ = ["TorchStateful", "TorchWindow"]


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
        with torch.inference_mode():
            self.input[0].copy_(z)
            out = self.model._transform_output(self.net(self.input))  # (1, d) float64
        return out[0, : self.k].cpu().numpy()

    def reset(self) -> None:
        """Nothing to forget (the window is the state)."""


class TorchStateful:
    """Stateful engine: one step of the model's LSTM on a ``(1, 1, F)`` input, ``(h, c)`` carried between steps."""

    def __init__(self, model):
        self.model = model
        self.net = model.net_
        layers, hidden = state_tensors_shape(model)
        device = model.device_
        self.input = torch.zeros(1, 1, int(model.n_features_in_), device=device)
        self.h = torch.zeros(layers, 1, hidden, device=device)
        self.c = torch.zeros(layers, 1, hidden, device=device)

    def step(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of one finite raw row; advances ``(h, c)``."""
        z = torch.from_numpy(prepare_rows(self.model, x[None]))
        with torch.inference_mode():
            self.input[0].copy_(z)
            logits, (h, c) = self.net(self.input, (self.h, self.c))  # (1, 1, k)
            self.h.copy_(h)
            self.c.copy_(c)
            out = self.model._transform_output(logits[:, -1])  # (1, k) float64
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
