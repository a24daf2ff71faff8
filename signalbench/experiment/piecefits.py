"""The record of every fit of a multi-piece run (``fits.json`` with ``"kind": "pieces"``), built from its task store.

A multi-piece run fits each model on a frame made of several pieces' blocks, so its record names the piece of every
block. ``pieces`` lists the run's pieces (``"piece"`` below is an index into it); every range is a half-open range
``[a, b)`` of the piece's own row positions::

    {"format": 1, "kind": "pieces", "horizon": h, "longest": L,
     "pieces": [{"symbol", "day", "rows": n or null, "task": key}],
     "folds": [{"fold": k,
                "parts": [{"piece", "role", "train", "val", "test", "span"}],
                "thresholds": [{"group", "value", "rows": [{"piece", "rows": ranges}]}]}],
     "models": {column: [{"fold": k, "group", "task": key,
                          "train": [{"piece", "rows", "context", "labelled"}], "val": [...],
                          "predict": [{"piece", "rows", "context", "scored"}]}]}}

``parts`` is each piece's part in the fold as the fold specification gives it (:func:`piecefolds.piece_fold`: its
training, validation and tested rows and the span it trades; ``role`` is ``train``, ``val``, ``test`` or ``rows``
for a split inside the piece). A fit's ``train`` and ``val`` are the blocks of its ``X`` and ``X_val`` in order, as
:func:`signalbench.experiment.fits.part_rows` records them (``labelled``: the rows given a finite label, each read
from its own piece's prices ``t .. t + horizon``); ``predict`` the span each tested piece was predicted on (context
start, first scored row, stop). ``thresholds`` are the rows each fitted stationary band was fit on. ``task`` is the
key of the fit in the task store, where the fitted model is (``signalbench audit RUN`` loads it from there).
"""

from __future__ import annotations

from typing import Any

from signalbench.experiment.fits import FORMAT, ranges
from signalbench.experiment.piecefolds import fold_members, piece_fold

__all__ = ["fold_parts_of", "load_pieces", "piece_keys", "pieces_fits"]


def load_pieces(store: Any, keys: list[str]) -> dict[int, dict[str, Any]]:
    """The stored result of every piece task that finished (piece index -> features, price, n)."""
    return {i: store.load(key) for i, key in enumerate(keys) if store.has(key)}


def piece_keys(graph: Any) -> list[str]:
    """The piece tasks' keys in the run's piece order (the graph adds them first, one per piece)."""
    return [t.key for t in graph.tasks if t.kind == "piece"]


def fold_parts_of(exp: Any, pieces: list[Any], loaded: dict[int, dict], longest: int) -> list[list[dict[str, Any]]]:
    """Per fold, each loaded piece's part as the config's fold specification makes it (``fits.json``'s ``parts``)."""
    labels, split = exp.labels.model_dump(), exp.split.model_dump()
    folds = []
    for members in fold_members(exp.split, [p.day for p in pieces]):
        parts = []
        for m in members:
            if m.piece not in loaded:
                continue
            fold = piece_fold(labels, split, m.params(), loaded[m.piece]["n"], longest)
            rows = {part: ranges(getattr(fold, part)) for part in ("train", "val", "test")}
            parts.append({"piece": m.piece, "role": m.role, **rows, "span": [int(fold.start), int(fold.stop)]})
        folds.append(parts)
    return folds


def _blocks(task: Any, record: list[dict[str, Any]], index: dict[str, int]) -> list[dict[str, Any]]:
    """A task's per-member records with the member replaced by the piece it is."""
    out = []
    for r in record:
        piece = index[task.deps[f"piece_{r['member']}"]]
        out.append({"piece": piece, **{k: v for k, v in r.items() if k != "member"}})
    return out


def pieces_fits(exp: Any, pieces: list[Any], graph: Any, store: Any, loaded: dict[int, dict], longest: int) -> dict:
    """``fits.json`` of a multi-piece run (the module docstring) from its graph and the task results in ``store``.

    ``loaded`` holds the stored result of every piece that loaded (:func:`load_pieces`). Tasks that failed are left
    out (the run's ``metrics.json`` lists them).
    """
    keys = piece_keys(graph)
    index = {key: i for i, key in enumerate(keys)}
    fits: dict[str, Any] = {"format": FORMAT, "kind": "pieces", "horizon": int(exp.labels.horizon)}
    fits["longest"] = int(longest)
    fits["pieces"] = [
        {"symbol": p.symbol, "day": p.day, "rows": loaded[i]["n"] if i in loaded else None, "task": keys[i]}
        for i, p in enumerate(pieces)
    ]
    fits["folds"] = [
        {"fold": k + 1, "parts": parts, "thresholds": []}
        for k, parts in enumerate(fold_parts_of(exp, pieces, loaded, longest))
    ]
    by_key = {t.key: t for t in graph.tasks}
    models: dict[str, list[dict[str, Any]]] = {}
    for (column, k, group), key in sorted(graph.fits.items(), key=lambda item: (item[0][1], item[0][2])):
        if not store.has(key):
            continue
        record = store.load(key)["record"]
        task = by_key[key]
        entry = {"fold": k + 1, "group": group, "task": key}
        entry.update(train=_blocks(task, record["train"], index), val=_blocks(task, record["val"], index))
        entry["predict"] = _predictions(graph, store, key, index)
        models.setdefault(column, []).append(entry)
    fits["models"] = models
    for t in graph.tasks:
        if t.kind == "threshold" and store.has(t.key):
            found = store.load(t.key)
            rows = _blocks(t, found["record"], index)
            entry = {"group": t.tags["group"], "value": found["threshold"], "rows": rows}
            fits["folds"][int(t.tags["fold"]) - 1]["thresholds"].append(entry)
    return fits


def _predictions(graph: Any, store: Any, fit: str, index: dict[str, int]) -> list[dict[str, Any]]:
    """Every stored prediction of the fit ``fit``: its piece, rows with context, and the rows kept."""
    out = []
    for t in graph.tasks:
        if t.kind != "predict" or t.deps["fit"] != fit or t.tags.get("part") == "val" or not store.has(t.key):
            continue  # a tuned fit's validation predictions (``predict_val``) are read by its tune task only
        found = store.load(t.key)
        (start, stop), ctx = found["span"], int(found["context"])
        out.append(
            {"piece": index[t.deps["piece"]], "rows": [ctx, stop], "context": [ctx, start], "scored": [start, stop]}
        )
    return sorted(out, key=lambda r: r["piece"])
