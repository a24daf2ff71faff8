"""Truncated backpropagation through time for the stateful models (``docs/architecture.md``, "Model steps").

A stateful network (:class:`~signalbench.signals.nets.StatefulLSTMNet`) carries its state from row to row; its
prediction of row ``t`` depends on every row of the **run** holding ``t``: the maximal stretch of consecutive finite
rows (a non-finite row, such as a day's feature warm-up, ends a run and the state restarts from zero after it).
:func:`run_outputs` is that recurrence over a whole matrix: every run from zero state, NaN at non-finite rows.

**Training policy** (:func:`train_tbptt`, one epoch):

1. The training matrix is cut into its runs. Runs are cut into **pieces** of ``P`` rows, where ``P`` is
   ``tbptt_len`` times ``ceil(finite rows / (lanes * tbptt_len))`` (so that about ``lanes`` pieces exist even when the
   data is one long run); each epoch the cuts inside a run move by a random phase in ``[0, P)``. A piece starts from
   zero state (at a run's start that is exactly what prediction does; mid-run it is the price of parallel lanes).
2. Pieces holding no labelled row are dropped; the others are shuffled. ``max_windows_per_epoch`` (when set) keeps
   pieces in that order until they hold that many labelled rows.
3. The pieces are dealt to ``lanes`` = ``batch_size`` parallel lanes, each to the lane with the fewest chunks so far.
   A lane runs its pieces one after another in **chunks** of ``tbptt_len`` consecutive rows.
4. One optimisation step per chunk position: the lanes' chunks form a ``(lanes, tbptt_len, F)`` batch; the state
   carried from the lane's previous chunk is **detached** (gradients flow within a chunk only) and zeroed where a
   piece starts; the loss is the mean cross-entropy over the chunk rows that hold a label (rows past a piece's end and
   idle lanes are masked out). Within a piece the forward state is carried across all its chunks, so the network
   sees the rows before a chunk, as it does when predicting.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from signalbench.signals.training import Criterion, TrainConfig, fit_epochs

__all__ = ["epoch_pieces", "finite_runs", "run_outputs", "train_tbptt"]


def finite_runs(finite: np.ndarray) -> np.ndarray:
    """``(m, 2)`` int64 ``[start, stop)`` of the maximal runs of True in a boolean vector."""
    edges = np.diff(np.concatenate(([0], finite.astype(np.int8), [0])))
    return np.column_stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)]).astype(np.int64)


def run_outputs(net: nn.Module, X: np.ndarray, chunk: int, device: torch.device) -> np.ndarray:
    """The recurrence over ``X``: ``(n, k)`` float32 logits, every run from zero state, NaN at non-finite rows.

    Parameters
    ----------
    net : torch.nn.Module
        A stateful network in eval mode (``net(x, state) -> (logits, state)``).
    X : numpy.ndarray
        ``(n, F)`` float32 prepared rows; NaN marks a row that ends a run.
    chunk : int
        Rows per network call (the state is carried across calls, so the result does not depend on it beyond
        float rounding).
    device : torch.device
        Where the network runs.
    """
    finite = np.isfinite(X).all(axis=1)
    out = None
    with torch.inference_mode():
        for start, stop in finite_runs(finite):
            state = None
            for lo in range(int(start), int(stop), chunk):
                hi = min(int(stop), lo + chunk)
                logits, state = net(torch.from_numpy(X[None, lo:hi]).to(device), state)
                if out is None:
                    out = np.full((X.shape[0], logits.shape[-1]), np.nan, dtype=np.float32)
                out[lo:hi] = logits[0].cpu().numpy()
    return out if out is not None else np.full((X.shape[0], 1), np.nan, dtype=np.float32)


def epoch_pieces(
    finite: np.ndarray, labelled: np.ndarray, *, lanes: int, chunk: int, generator: torch.Generator, cap: int | None
) -> np.ndarray:
    """The pieces of one epoch, shuffled: ``(m, 2)`` int64 ``[start, stop)`` (steps 1 and 2 of the policy).

    Parameters
    ----------
    finite : numpy.ndarray
        ``(n,)`` bool, rows that are finite (runs are their maximal stretches).
    labelled : numpy.ndarray
        ``(n,)`` bool, finite rows with a label.
    lanes, chunk : int
        ``batch_size`` and ``tbptt_len``.
    generator : torch.Generator
        The seeded epoch generator (advanced by the call).
    cap : int or None
        ``max_windows_per_epoch``: labelled rows per epoch.
    """
    runs = finite_runs(finite)
    total = int((runs[:, 1] - runs[:, 0]).sum())
    piece = chunk * max(1, math.ceil(total / (lanes * chunk)))
    pieces = []
    for start, stop in runs:
        phase = int(torch.randint(piece, (1,), generator=generator)) if stop - start > piece else 0
        cuts = [int(start), *range(int(start) + (phase or piece), int(stop), piece), int(stop)]
        pieces += [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    pieces = np.array(pieces, dtype=np.int64).reshape(-1, 2)
    count = np.concatenate(([0], np.cumsum(labelled)))
    n_labelled = count[pieces[:, 1]] - count[pieces[:, 0]]
    keep = n_labelled > 0
    pieces, n_labelled = pieces[keep], n_labelled[keep]
    order = torch.randperm(len(pieces), generator=generator).numpy()
    pieces, n_labelled = pieces[order], n_labelled[order]
    if cap is not None:
        pieces = pieces[: int(np.searchsorted(np.cumsum(n_labelled), cap)) + 1]
    return pieces


def _lane_schedule(pieces: np.ndarray, lanes: int, chunk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deal pieces to lanes (step 3).

    Returns ``(lanes, steps)`` arrays: a chunk's first row (-1: idle), its piece's end, and whether it is the first
    chunk of its piece (the state restarts from zero there).
    """
    queues: list[list[tuple[int, int, bool]]] = [[] for _ in range(lanes)]
    load = np.zeros(lanes, dtype=np.int64)
    for start, stop in pieces:
        lane = int(np.argmin(load))
        for lo in range(int(start), int(stop), chunk):
            queues[lane].append((lo, int(stop), lo == start))
        load[lane] += math.ceil((stop - start) / chunk)
    steps = int(load.max(initial=0))
    starts = np.full((lanes, steps), -1, dtype=np.int64)
    stops = np.full((lanes, steps), -1, dtype=np.int64)
    first = np.ones((lanes, steps), dtype=bool)
    for lane, queue in enumerate(queues):
        for j, (lo, stop, is_first) in enumerate(queue):
            starts[lane, j], stops[lane, j], first[lane, j] = lo, stop, is_first
    return starts, stops, first


def _chunk_batch(X, targets, starts, stops, chunk):
    """Inputs ``(B, T, F)``, targets ``(B, T)`` and the mask of rows in a piece with a label, for one step."""
    rows = starts[:, None] + np.arange(chunk)[None, :]  # (B, T)
    inside = (starts[:, None] >= 0) & (rows < stops[:, None])
    rows = np.where(inside, rows, 0)
    xb = np.where(inside[..., None], X[rows], 0.0).astype(np.float32)
    yb = targets[rows]
    mask = inside & np.isfinite(yb)
    return torch.from_numpy(xb), torch.from_numpy(np.where(mask, yb, 0.0).astype(np.float32)), torch.from_numpy(mask)


def _tbptt_epoch(net, X, targets, schedule, chunk, config, criterion, optimizer, device):
    """One pass over the lane schedule (step 4); mean training loss and accuracy over the labelled rows."""
    net.train()
    starts, stops, first = schedule
    lanes = starts.shape[0]
    layers, hidden = net.cfg.num_layers, net.cfg.hidden_size
    h = torch.zeros(layers, lanes, hidden, device=device)
    c = torch.zeros(layers, lanes, hidden, device=device)
    total, correct, seen = 0.0, 0, 0
    for j in range(starts.shape[1]):
        keep = torch.from_numpy(~first[:, j]).to(device=device, dtype=h.dtype)[None, :, None]
        h, c = h.detach() * keep, c.detach() * keep  # a piece starts from zero; gradients stop at the chunk edge
        xb, yb, mask = (t.to(device) for t in _chunk_batch(X, targets, starts[:, j], stops[:, j], chunk))
        logits, (h, c) = net(xb, (h, c))
        if not bool(mask.any()):
            continue
        loss, ok = criterion(logits[mask], yb[mask])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(net.parameters(), config.clip_grad_norm)
        optimizer.step()
        m = int(mask.sum())
        total += float(loss.detach()) * m
        seen += m
        correct += int(ok) if ok is not None else 0
    return (total / seen if seen else math.nan), (correct / seen if seen else math.nan), seen


def train_tbptt(
    net: nn.Module,
    *,
    X: np.ndarray,
    targets: np.ndarray,
    labelled: np.ndarray,
    tbptt_len: int,
    criterion: Criterion,
    config: TrainConfig,
    seed: int,
    device: torch.device,
    validate=None,
    description: str = "train",
    callback=None,
) -> list[dict]:
    """Train a stateful network in place by truncated backpropagation through time (the policy above).

    Parameters
    ----------
    net : torch.nn.Module
        A stateful network on ``device`` (``net(x, (h, c)) -> (logits, (h, c))``, with ``net.cfg.num_layers`` and
        ``net.cfg.hidden_size``).
    X : numpy.ndarray
        ``(n, F)`` float32 prepared rows, NaN where a row is not finite.
    targets : numpy.ndarray
        ``(n,)`` float32 class indices, NaN where a row has no label.
    labelled : numpy.ndarray
        ``(n,)`` bool: the training rows (finite, labelled).
    tbptt_len : int
        Rows per chunk (the truncation length of the gradient).
    criterion : callable
        :func:`signalbench.signals.training.classification_loss`.
    config : TrainConfig
        Optimisation settings; ``batch_size`` is the number of lanes, ``max_windows_per_epoch`` a cap on labelled rows.
    seed : int
        Seed of the epoch generator.
    device : torch.device
        Where batches go.
    validate : callable, optional
        ``validate() -> (loss, accuracy)``; enables early stopping.
    description : str
        Progress-bar label.
    callback : callable, optional
        ``callback(epoch, metrics)`` after every epoch.

    Returns
    -------
    list of dict
        The history of :func:`signalbench.signals.training.fit_epochs` (``train_windows``: labelled rows trained on).
    """
    finite = np.isfinite(X).all(axis=1)
    targets = np.where(labelled, targets, np.nan).astype(np.float32)
    lanes = int(config.batch_size)

    def one_epoch(gen: torch.Generator, optimizer) -> tuple[float, float, int]:
        pieces = epoch_pieces(
            finite, labelled, lanes=lanes, chunk=tbptt_len, generator=gen, cap=config.max_windows_per_epoch
        )
        schedule = _lane_schedule(pieces, lanes, tbptt_len)
        return _tbptt_epoch(net, X, targets, schedule, tbptt_len, config, criterion, optimizer, device)

    return fit_epochs(net, config, seed, one_epoch, validate, description=description, callback=callback)
