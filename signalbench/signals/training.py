"""The one training loop shared by every neural signal model, and its settings (declared once).

Adam, a task loss (cross-entropy with optional class weights, mean squared error, or both for the multi-task model),
gradient-norm clipping, learning-rate reduction on plateau, early stopping on the **validation** loss with the best
weights restored, and a per-epoch history of train/validation loss and accuracy. Shuffling uses its own
``torch.Generator`` seeded from ``seed``; the caller wraps network construction and training in
``torch.random.fork_rng`` with the same seed, so two CPU runs with one seed give identical weights.

Training windows are gathered one minibatch at a time from the strided view of the input
(:func:`signalbench.data.windowing.windows`): ``view[rows - seq_len + 1]`` copies ``(batch, seq_len, F)`` and nothing
larger. ``max_windows_per_epoch`` caps an epoch at a random subset of the training windows, drawn afresh each epoch
from the seeded generator (validation is always over every validation window). Without validation data there is
nothing to stop on: all ``epochs`` run, the plateau schedule follows the training loss, and the last weights are kept.

Progress: a ``callback(epoch, metrics)`` is called after every epoch (``epoch`` counts from 1; ``metrics`` is the
epoch's history entry), for an orchestrator's own progress display; without one, a tqdm bar is shown when
``progress`` asks for it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from signalbench.data.windowing import windows
from signalbench.signals.devices import parse_device, resolve_device
from signalbench.signals.params import Bool, Float, Int, Param

__all__ = [
    "TRAINING",
    "TrainConfig",
    "classification_loss",
    "fit_epochs",
    "multitask_loss",
    "parse_device",
    "regression_loss",
    "resolve_device",
    "train",
]

# criterion(output, target) -> (mean loss over the batch, number of correct class predictions or None)
Criterion = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]
# callback(epoch, metrics) after every epoch; epoch counts from 1 (the last of a full run is config.epochs)
Callback = Callable[[int, dict], None]

#: The training settings every neural model shares (its hyperparameters of the same names).
TRAINING: dict[str, Param] = {
    "epochs": Param(30, Int(minimum=1), "Maximum passes over the training windows."),
    "batch_size": Param(256, Int(minimum=1), "Windows per optimisation step."),
    "lr": Param(1e-3, Float(low=0.0, low_open=True), "Adam's initial learning rate."),
    "weight_decay": Param(0.0, Float(low=0.0), "Adam's L2 penalty."),
    "clip_grad_norm": Param(1.0, Float(low=0.0, low_open=True, allow_none=True), "Maximum gradient norm (None: off)."),
    "patience": Param(5, Int(minimum=0), "Epochs without a lower validation loss before stopping (best restored)."),
    "lr_patience": Param(2, Int(minimum=0), "Epochs without improvement before the learning rate is halved."),
    "max_windows_per_epoch": Param(
        None,
        Int(minimum=1, allow_none=True),
        "Cap on training windows per epoch: a seeded random subset each epoch (None: all); validation uses all.",
    ),
    "progress": Param(None, Bool(allow_none=True), "tqdm bar over epochs (None: only on a terminal)."),
}

# Settings of the loop that are not model hyperparameters.
_LOOP: dict[str, Param] = {
    "lr_factor": Param(0.5, Float(low=0.0, high=1.0, low_open=True, high_open=True), "Learning-rate reduction."),
    "min_delta": Param(0.0, Float(low=0.0), "Smallest validation-loss decrease that counts as an improvement."),
}


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings: :data:`TRAINING` plus ``lr_factor`` and ``min_delta``.

    :data:`TRAINING` are the models' hyperparameters of the same names; ``lr_factor`` is the learning-rate reduction
    on plateau and ``min_delta`` the smallest validation-loss decrease that counts as an improvement. Defaults and
    rules are those of the tables.
    """

    epochs: int = TRAINING["epochs"].default
    batch_size: int = TRAINING["batch_size"].default
    lr: float = TRAINING["lr"].default
    weight_decay: float = TRAINING["weight_decay"].default
    clip_grad_norm: float | None = TRAINING["clip_grad_norm"].default
    patience: int = TRAINING["patience"].default
    lr_patience: int = TRAINING["lr_patience"].default
    max_windows_per_epoch: int | None = TRAINING["max_windows_per_epoch"].default
    progress: bool | None = TRAINING["progress"].default
    lr_factor: float = _LOOP["lr_factor"].default
    min_delta: float = _LOOP["min_delta"].default

    def validate(self) -> None:
        """Raise ``TypeError`` / ``ValueError`` naming the first invalid setting (the rules of the tables)."""
        rules = {**TRAINING, **_LOOP}
        for f in fields(self):
            rules[f.name].rule(getattr(self, f.name), f.name)


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


def epoch_rows(rows: np.ndarray, generator: torch.Generator, cap: int | None) -> np.ndarray:
    """The training rows of one epoch in shuffled order: all of them, or a random subset of ``cap`` rows.

    Parameters
    ----------
    rows : numpy.ndarray
        Every training row.
    generator : torch.Generator
        The seeded shuffling generator (advanced by the call).
    cap : int or None
        ``max_windows_per_epoch``.

    Returns
    -------
    numpy.ndarray
        ``min(len(rows), cap)`` distinct rows.
    """
    order = rows[torch.randperm(rows.size, generator=generator).numpy()]
    return order if cap is None or order.size <= cap else order[:cap]


def _train_epoch(net, view, targets, order, seq_len, config, criterion, optimizer, device) -> tuple[float, float]:
    """One pass over the windows ending at ``order`` (in that order); mean training loss and accuracy."""
    net.train()
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
    return total / seen, (correct / seen if has_acc else float("nan"))


class _EarlyStopping:
    """Stop after ``patience`` epochs without a lower monitored loss; keep a copy of the best weights."""

    def __init__(self, patience: int, min_delta: float):
        self.patience, self.min_delta = patience, min_delta
        self.best, self.state, self.stale = math.inf, None, 0

    def should_stop(self, loss: float, net: nn.Module) -> bool:
        if loss < self.best - self.min_delta:
            self.best, self.state, self.stale = loss, copy.deepcopy(net.state_dict()), 0
            return False
        self.stale += 1
        return self.stale >= self.patience


class _Progress:
    """Reports each epoch: to the caller's callback when there is one, else to a tqdm bar (if enabled)."""

    def __init__(self, epochs: int, description: str, progress: bool | None, callback: Callback | None):
        self.callback = callback
        disable = callback is not None or (None if progress is None else not progress)
        self.bar = tqdm(total=epochs, desc=description, disable=disable, leave=False)

    def __call__(self, epoch: int, metrics: dict) -> None:
        self.bar.update(1)
        self.bar.set_postfix(train_loss=f"{metrics['train_loss']:.4f}", val_loss=f"{metrics['val_loss']:.4f}")
        if self.callback is not None:
            self.callback(epoch, dict(metrics))

    def close(self) -> None:
        self.bar.close()


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
    callback: Callback | None = None,
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
        Seed of the shuffling (and subsampling) generator.
    device : torch.device
        Where batches go.
    val : tuple, optional
        ``(X_val, targets_val, rows_val)`` prepared the same way; enables early stopping.
    description : str
        Progress-bar label.
    callback : callable, optional
        ``callback(epoch, metrics)`` after every epoch; no tqdm bar is shown when it is given.

    Returns
    -------
    list of dict
        One dict per epoch: ``epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, train_windows, seconds``
        (NaN where not applicable). The best epoch's weights (lowest validation loss) are loaded into ``net`` on
        return.
    """
    view = windows(X, seq_len)  # (n - seq_len + 1, seq_len, F), a view
    val_view = None if val is None else windows(val[0], seq_len)
    rows = np.asarray(rows, dtype=np.int64)

    def one_epoch(gen: torch.Generator, optimizer) -> tuple[float, float, int]:
        order = epoch_rows(rows, gen, config.max_windows_per_epoch)
        loss, acc = _train_epoch(net, view, targets, order, seq_len, config, criterion, optimizer, device)
        return loss, acc, int(order.size)

    def validate() -> tuple[float, float]:
        return _evaluate(net, val_view, val[1], val[2], seq_len, 4 * config.batch_size, criterion, device)

    return fit_epochs(
        net, config, seed, one_epoch, None if val is None else validate, description=description, callback=callback
    )


def fit_epochs(
    net: nn.Module,
    config: TrainConfig,
    seed: int,
    one_epoch: Callable[[torch.Generator, torch.optim.Optimizer], tuple[float, float, int]],
    validate: Callable[[], tuple[float, float]] | None,
    *,
    description: str = "train",
    callback: Callback | None = None,
) -> list[dict]:
    """The epoch loop every neural model shares: Adam, learning rate halved on plateau, early stopping, history.

    Parameters
    ----------
    net : torch.nn.Module
        The network (trained in place; the best epoch's weights are loaded on return when ``validate`` is given).
    config : TrainConfig
        Optimisation settings.
    seed : int
        Seed of the generator handed to ``one_epoch`` (shuffling, subsets).
    one_epoch : callable
        ``one_epoch(generator, optimizer) -> (train loss, train accuracy, rows trained on)``: one pass.
    validate : callable or None
        ``validate() -> (loss, accuracy)`` on the validation rows; enables early stopping.
    description : str
        Progress-bar label.
    callback : callable, optional
        ``callback(epoch, metrics)`` after every epoch.

    Returns
    -------
    list of dict
        The per-epoch history (see :func:`train`).
    """
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.lr_factor, patience=config.lr_patience
    )
    gen = torch.Generator().manual_seed(int(seed))
    stopper = None if validate is None else _EarlyStopping(config.patience, config.min_delta)
    report = _Progress(int(config.epochs), description, config.progress, callback)
    history: list[dict] = []
    try:
        for epoch in range(1, int(config.epochs) + 1):
            t0 = time.perf_counter()
            train_loss, train_acc, seen = one_epoch(gen, optimizer)
            val_loss, val_acc = (math.nan, math.nan) if validate is None else validate()
            metrics = {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_accuracy": train_acc,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "lr": optimizer.param_groups[0]["lr"],
                "train_windows": int(seen),
                "seconds": time.perf_counter() - t0,
            }
            history.append(metrics)
            report(epoch, metrics)
            if not math.isfinite(train_loss):
                raise FloatingPointError(f"training diverged at epoch {epoch} (train loss {train_loss}); lower lr")
            scheduler.step(train_loss if validate is None else val_loss)
            if stopper is not None and stopper.should_stop(val_loss, net):
                break
    finally:
        report.close()
    if stopper is not None and stopper.state is not None:
        net.load_state_dict(stopper.state)
    net.eval()
    return history
