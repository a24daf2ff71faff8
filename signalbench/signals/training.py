"""The one training loop shared by every neural signal model.

Adam, a task loss (cross-entropy with optional class weights, mean squared error, or both for the multi-task model),
gradient-norm clipping, learning-rate reduction on plateau, early stopping on the **validation** loss with the best
weights restored, and a per-epoch history of train/validation loss and accuracy. Shuffling uses its own
``torch.Generator`` seeded from ``seed``; the caller wraps network construction and training in
``torch.random.fork_rng`` with the same seed, so two CPU runs with one seed give identical weights.

Training windows are gathered one minibatch at a time from the strided view of the input
(:func:`signalbench.data.windows.windows`): ``view[rows - seq_len + 1]`` copies ``(batch, seq_len, F)`` and nothing
larger. Without validation data there is nothing to stop on: all ``epochs`` run, the plateau schedule follows the
training loss, and the last weights are kept.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from signalbench.data.windowing import windows

__all__ = ["TrainConfig", "classification_loss", "multitask_loss", "regression_loss", "resolve_device", "train"]

# criterion(output, target) -> (mean loss over the batch, number of correct class predictions or None)
Criterion = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the models' hyperparameters of the same names).

    Attributes
    ----------
    epochs : int
        Maximum number of passes over the training rows.
    batch_size : int
        Windows per optimisation step.
    lr : float
        Adam's initial learning rate.
    weight_decay : float
        Adam's L2 penalty.
    clip_grad_norm : float or None
        Maximum gradient norm (None: no clipping).
    patience : int
        Epochs without a validation-loss improvement before stopping.
    lr_patience : int
        Epochs without improvement before the learning rate is multiplied by ``lr_factor``.
    lr_factor : float
        Learning-rate reduction factor.
    min_delta : float
        Smallest decrease of the validation loss that counts as an improvement.
    progress : bool or None
        Show a tqdm progress bar (None: only when writing to a terminal).
    """

    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip_grad_norm: float | None = 1.0
    patience: int = 5
    lr_patience: int = 2
    lr_factor: float = 0.5
    min_delta: float = 0.0
    progress: bool | None = None

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid setting."""
        for name in ("epochs", "batch_size", "patience", "lr_patience"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (0 if "patience" in name else 1):
                raise ValueError(f"{name} must be an integer >= {0 if 'patience' in name else 1}, got {v!r}")
        for name in ("lr", "weight_decay", "min_delta"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (name == "lr" and v == 0):
                raise ValueError(f"{name} must be a finite number {'> 0' if name == 'lr' else '>= 0'}, got {v!r}")
        if self.clip_grad_norm is not None and not (
            isinstance(self.clip_grad_norm, (int, float)) and self.clip_grad_norm > 0
        ):
            raise ValueError(f"clip_grad_norm must be a positive number or None, got {self.clip_grad_norm!r}")
        if not (isinstance(self.lr_factor, (int, float)) and 0 < self.lr_factor < 1):
            raise ValueError(f"lr_factor must be in (0, 1), got {self.lr_factor!r}")
        if self.progress not in (None, True, False):
            raise ValueError(f"progress must be True, False or None, got {self.progress!r}")


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as ``torch.device``.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...

    Returns
    -------
    torch.device
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or a torch.device, got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use device='auto' or 'cpu'")
    return dev


def classification_loss(class_weight: torch.Tensor | None = None) -> Criterion:
    """Cross-entropy over class logits; targets are class indices (stored as floats).

    Parameters
    ----------
    class_weight : torch.Tensor, optional
        ``(k,)`` weight per class.

    Returns
    -------
    callable
        ``criterion(logits (B, k), target (B,)) -> (loss, n_correct)``.
    """

    def criterion(out, target):
        target = target.long()
        weight = None if class_weight is None else class_weight.to(out.device)
        loss = nn.functional.cross_entropy(out, target, weight=weight)
        correct = (out.argmax(dim=1) == target).sum()
        return loss, correct

    return criterion


def regression_loss() -> Criterion:
    """Mean squared error of a ``(B, 1)`` output against ``(B,)`` targets (no accuracy)."""

    def criterion(out, target):
        return nn.functional.mse_loss(out[:, 0], target.to(out.dtype)), None

    return criterion


def multitask_loss(n_classes: int, aux_weight: float, class_weight: torch.Tensor | None = None) -> Criterion:
    """Cross-entropy on the first ``n_classes`` outputs plus ``aux_weight`` times the MSE of the last one.

    Parameters
    ----------
    n_classes : int
        Number of direction classes (the output is ``(B, n_classes + 1)``).
    aux_weight : float
        Weight of the auxiliary regression loss.
    class_weight : torch.Tensor, optional
        ``(n_classes,)`` class weights of the cross-entropy.

    Returns
    -------
    callable
        ``criterion(out (B, k + 1), target (B, 2)) -> (loss, n_correct)``; ``target[:, 0]`` is the class index,
        ``target[:, 1]`` the (standardized) auxiliary value.
    """
    ce = classification_loss(class_weight)

    def criterion(out, target):
        loss, correct = ce(out[:, :n_classes], target[:, 0])
        aux = nn.functional.mse_loss(out[:, n_classes], target[:, 1].to(out.dtype))
        return loss + aux_weight * aux, correct

    return criterion


def _gather(view: np.ndarray, rows: np.ndarray, seq_len: int) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(view[rows - (seq_len - 1)]))  # (B, seq_len, F) float32


def _evaluate(net, view, targets, rows, seq_len, batch_size, criterion, device) -> tuple[float, float]:
    """Mean loss and accuracy over ``rows`` (eval mode, no gradients)."""
    total, correct, count, has_acc = 0.0, 0, 0, False
    net.eval()
    with torch.inference_mode():
        for lo in range(0, rows.size, batch_size):
            r = rows[lo : lo + batch_size]
            xb = _gather(view, r, seq_len).to(device)
            yb = torch.from_numpy(targets[r]).to(device)
            loss, ok = criterion(net(xb), yb)
            total += float(loss) * r.size
            count += r.size
            if ok is not None:
                has_acc = True
                correct += int(ok)
    return total / count, (correct / count if has_acc else float("nan"))


def train(
    net: nn.Module,
    *,
    X: np.ndarray,
    targets: np.ndarray,
    rows: np.ndarray,
    seq_len: int,
    criterion: Criterion,
    config: TrainConfig,
    seed: int,
    device: torch.device,
    val: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    description: str = "train",
) -> list[dict]:
    """Train ``net`` in place on the windows ending at ``rows``; return the per-epoch history.

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``(B, seq_len, F)`` float32 windows to outputs that ``criterion`` scores; already on ``device``.
    X : numpy.ndarray
        ``(n, F)`` float32 prepared (scaled) inputs.
    targets : numpy.ndarray
        ``(n,)`` or ``(n, m)`` float targets aligned with ``X`` (only ``rows`` are read).
    rows : numpy.ndarray
        Training rows (each ``>= seq_len - 1``, window and target finite).
    seq_len : int
        Window length.
    criterion : callable
        See :func:`classification_loss`.
    config : TrainConfig
        Optimisation settings.
    seed : int
        Seed of the shuffling generator.
    device : torch.device
        Where batches go.
    val : tuple, optional
        ``(X_val, targets_val, rows_val)`` prepared the same way; enables early stopping.
    description : str
        Progress-bar label.

    Returns
    -------
    list of dict
        One dict per epoch: ``epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds`` (NaN where
        not applicable). The best epoch's weights (lowest validation loss) are loaded into ``net`` on return.
    """
    from tqdm.auto import tqdm

    view = windows(X, seq_len)  # (n - seq_len + 1, seq_len, F), a view
    val_view = None if val is None else windows(val[0], seq_len)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.lr_factor, patience=config.lr_patience
    )
    gen = torch.Generator().manual_seed(int(seed))
    rows = np.asarray(rows, dtype=np.int64)
    history: list[dict] = []
    best_loss = math.inf
    best_state = None
    stale = 0
    disable = None if config.progress is None else not config.progress
    bar = tqdm(range(int(config.epochs)), desc=description, disable=disable, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        net.train()
        order = rows[torch.randperm(rows.size, generator=gen).numpy()]
        total, correct, seen, has_acc = 0.0, 0, 0, False
        for lo in range(0, order.size, config.batch_size):
            r = order[lo : lo + config.batch_size]
            if r.size < 2 and order.size >= 2:  # a lone window breaks batch norm; it is in the next epoch's shuffle
                continue
            xb = _gather(view, r, seq_len).to(device)  # (B, seq_len, F)
            yb = torch.from_numpy(targets[r]).to(device)
            optimizer.zero_grad(set_to_none=True)
            loss, ok = criterion(net(xb), yb)
            loss.backward()
            if config.clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(net.parameters(), config.clip_grad_norm)
            optimizer.step()
            total += float(loss.detach()) * r.size
            seen += r.size
            if ok is not None:
                has_acc = True
                correct += int(ok)
        train_loss = total / seen
        train_acc = correct / seen if has_acc else float("nan")
        if val is not None:
            val_loss, val_acc = _evaluate(
                net, val_view, val[1], val[2], seq_len, 4 * config.batch_size, criterion, device
            )
            monitored = val_loss
        else:
            val_loss, val_acc = float("nan"), float("nan")
            monitored = train_loss
        lr = optimizer.param_groups[0]["lr"]
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": train_loss,
                "train_accuracy": train_acc,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "lr": lr,
                "seconds": time.perf_counter() - t0,
            }
        )
        bar.set_postfix(train_loss=f"{train_loss:.4f}", val_loss=f"{val_loss:.4f}")
        if not math.isfinite(train_loss):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1} (train loss {train_loss}); lower lr")
        scheduler.step(monitored)
        if val is not None:
            if monitored < best_loss - config.min_delta:
                best_loss = monitored
                best_state = copy.deepcopy(net.state_dict())
                stale = 0
            else:
                stale += 1
                if stale >= config.patience:
                    break
    bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history
