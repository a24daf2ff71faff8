"""Full-size learning runs: do the models find the edge that is there, and only that?

1. Synthetic ticks (``synthetic_ticks``, queue-imbalance edge) at ``--synthetic-rows`` rows for edges 0.6, 0.3 and 0:
   directional accuracy on the test rows where the mid moves (up if P(up) > P(down)) of the LSTM, the Transformer,
   logistic and majority, next to the generator's Bayes-optimal accuracy (expected, and realised on the same rows).
   Chronological 60/20/20 split; early stopping on the validation part.
2. The shared LOBSTER samples (GOOG 2012-06-21, 5 levels; AMZN 2012-06-21, 1 level), **per symbol and pooled**:
   3-class direction over ``--horizons`` events (10, 20, 50) with each symbol's stationary band set to the 1/3
   quantile of its |h-event return| on its training rows, purged chronological 60/20/20 split per symbol
   (``train_val_test_split``; the longest window, 50, sets the purge), every model scored on the same first
   ``--test-rows`` rows of each symbol's test part: macro-F1, and the net return and signal efficiency of
   ``strategies.sign`` on its probabilities after the quoted spread (each change of position pays the row's quoted
   half-spread per unit; additive, bps of the notional). Early stopping on the last ``--val-rows`` validation rows.
   Models: majority, logistic, LightGBM (``--trees``), LSTM and Transformer on ``lob_basic`` features, and the order-
   book model(s) of ``--book-models`` (default BiN-CTABL, the best of the four on these days at horizon 10) on the raw
   book. The neural models train at a reduced size: ``--max-windows-per-epoch`` random windows per epoch,
   ``--epochs``, small widths (``_models``), balanced class weights, ``--patience`` (2), ``--lr`` (2e-3;
   ``--lr-for NAME=LR`` sets one model's).
   ``per-symbol``: one fit per symbol on its own rows (GOOG's features of 5 levels, its 5-level book).
   ``pooled``: one fit on the training rows of both symbols (each block with its own context: no window crosses a
   symbol), the features both days have (the level-1 book for the book models), each symbol's features first
   z-scored with its own training rows' statistics (``signalbench.signals.SymbolScaler``, what a ``pool = "all"``
   experiment does; the book models skip it); ``pooled-raw`` (``--pooled pooled pooled-raw``): the same without it.
   The fit time of ``per-symbol`` is the sum of its two fits. Published deep models reach roughly 0.48-0.64 macro-F1
   at horizon 10 on LOBSTER stocks; above 0.80 means a leak.

``--threads 1`` (the default) is faster than 2 on a loaded machine (oversubscribed torch threads).

Run: SIGNALBENCH_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/models.py --skip-synthetic
     [--pooled pooled pooled-raw] [--horizons 10 20 50] [--max-windows-per-epoch 2000 (0: all)] [--epochs 4]
     [--trees 100] [--val-rows 1500] [--test-rows 4000] [--models lstm ...] [--book-models binctabl tlob ...]
     [--lr 2e-3] [--lr-for deeplob=1e-2 ...] [--patience 2] [--batch-size 64] [--seed 0]
     [--json results.json]
Full size: ``--max-windows-per-epoch 0 --epochs 20 --trees 500 --test-rows 100000 --val-rows 100000``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

import signalbench.signals as signals
from signalbench.data.features import compute_features, mid_price
from signalbench.data.labels import direction
from signalbench.data.splits import train_val_test_split
from signalbench.data.synthetic import synthetic_ticks
from signalbench.reports.metrics import macro_f1

ROOT = Path(__file__).resolve().parents[1]
LOBSTER = Path(os.environ.get("SIGNALBENCH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "lobster"
# patience 10: with 4, the 2-layer bidirectional LSTM stopped at chance on the weak (edge 0.3) signal
TRAIN = {"progress": False, "device": "auto", "seed": 0, "batch_size": 512, "patience": 10, "lr": 2e-3}


def synthetic(rows: int) -> None:
    print(f"== synthetic ticks, {rows:,} rows, queue-imbalance edge; accuracy on test rows whose mid moves")
    models = {
        "lstm": ("lstm", {"seq_len": 20, "hidden_size": 32, "num_layers": 2, "epochs": 20, **TRAIN}),
        "transformer": (
            "transformer",
            {"seq_len": 20, "d_model": 32, "nhead": 4, "num_layers": 2, "dim_feedforward": 64, "epochs": 20, **TRAIN},
        ),
        "logistic": ("logistic", {}),
        "majority": ("majority", {}),
    }
    for edge in (0.6, 0.3, 0.0):
        ticks = synthetic_ticks(rows, seed=11, edge=edge)
        X = ticks.data[["imbalance", "spread", "trade_sign", "volume"]].astype(np.float64)
        y = direction(mid_price(ticks.data), 1)
        a, b = int(0.6 * rows), int(0.8 * rows)
        line = [f"edge {edge}: Bayes expected {ticks.bayes_accuracy:.4f}"]
        for label, (name, params) in models.items():
            t0 = time.perf_counter()
            model = signals.create(name, **params).fit(X.iloc[:a], y[:a], X_val=X.iloc[a:b], y_val=y[a:b])
            p = model.predict_proba(X.iloc[b - model.window + 1 :])[model.window - 1 :]
            yt = y[b:]
            moving = ((yt == 0) | (yt == 2)) & np.isfinite(p).all(axis=1)
            acc = np.mean((p[moving, 2] > p[moving, 0]) == (yt[moving] == 2))
            if label == "lstm":
                realised = np.mean((ticks.p_up[b:][moving] > 0.5) == (yt[moving] == 2))
                se = np.sqrt(realised * (1 - realised) / moving.sum())
                line.append(f"realised {realised:.4f} (SE {se:.4f}, {moving.sum():,} rows)")
            line.append(f"{label} {acc:.4f} ({time.perf_counter() - t0:.0f} s)")
        print("  " + "; ".join(line))


def _part(frame, labels, rows, L):
    lo, hi = rows[0] - L + 1, rows[-1] + 1
    y = np.full(hi - lo, np.nan)
    y[rows - lo] = labels[rows]
    return frame.iloc[lo:hi], y


def _models(size: argparse.Namespace) -> dict:
    """label -> (registry name, params, input: "features" or "book") at the benchmark's size (see the docstring)."""
    neural = {**TRAIN, "epochs": size.epochs, "max_windows_per_epoch": size.max_windows_per_epoch}
    neural.update(patience=size.patience, batch_size=size.batch_size, class_weight="balanced", lr=size.lr)
    neural.update(seed=size.seed)
    book = {**neural, "size_input": size.size_input}
    book_params = {
        "deeplob": {"seq_len": 50, "conv_channels": 16, "inception_channels": 32, "lstm_hidden": 32},
        "binctabl": {"seq_len": 10},
        "tlob": {"seq_len": 50, "hidden": 32, "num_layers": 2},
        "mlplob": {"seq_len": 50, "hidden": 32, "num_layers": 2},
    }
    models = {
        "majority": ("majority", {}, "features"),
        "logistic": ("logistic", {}, "features"),
        "lightgbm": ("lightgbm", {"n_estimators": size.trees, "num_leaves": 31}, "features"),
        "lstm": ("lstm", {"seq_len": 50, "hidden_size": 32, "num_layers": 1, **neural}, "features"),
        "transformer": (
            "transformer",
            {"seq_len": 50, "d_model": 32, "nhead": 4, "num_layers": 2, "dim_feedforward": 64, **neural},
            "features",
        ),
    }
    for name in size.book_models:
        models[name] = (name, {**book_params[name], **book}, "book")
    for name, lr in size.lr_for.items():  # one model's own learning rate (--lr-for deeplob=1e-2)
        if name in models:
            models[name][1]["lr"] = lr
    return {k: m for k, m in models.items() if not size.models or k in size.models}


def _lr_pair(text: str) -> tuple[str, float]:
    name, _, lr = text.partition("=")
    try:
        return name, float(lr)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=LR (e.g. deeplob=1e-2), got {text!r}") from None


def _earnings(proba: np.ndarray, book: pd.DataFrame) -> tuple[float, float]:
    """Total additive net return (bps of the notional) and signal efficiency of ``sign(proba)`` after the quoted spread.

    Position at row t = +1 / -1 / 0 when up / down / stationary is the most probable class (decided with row t's
    window), marked to the mid; each change of position pays the quoted half-spread of its row per unit traded.
    """
    import warnings

    from signalbench.engine import backtest
    from signalbench.strategies import sign

    mid = ((book["ask_price_1"] + book["bid_price_1"]) / 2).to_numpy()
    half_spread = ((book["ask_price_1"] - book["bid_price_1"]) / mid / 2 * 1e4).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = backtest(mid, sign(proba), half_spread_bps=half_spread, mode="additive", keep="stats").stats
    return float(stats.iloc[:, 0]["total_return_additive"]) * 1e4, float(stats.iloc[:, 0]["signal_efficiency"])


def _load(path: Path) -> dict:
    """One LOBSTER day: its ``lob_basic`` features, its full book, its level-1 book and its days."""
    from signalbench.data.lobster import load_lobster

    df = load_lobster(path)
    levels = sum(c.startswith("ask_price_") for c in df.columns)
    return {
        "name": path.name[len("LOBSTER_SampleFile_") : -4],
        "levels": levels,
        "features": compute_features(df, "lob_basic"),
        "book": df[signals.DeepLOBModel.book_columns(levels)],
        "book1": df[signals.DeepLOBModel.book_columns(1)],
        "mid": mid_price(df),
        "days": df["day"].to_numpy(),
    }


def _labelled(day: dict, horizon: int, size: argparse.Namespace) -> dict:
    """The day's purged 60/20/20 split, its 3-class labels (band: 1/3 quantile of |change| on training rows)."""
    L = 50  # the longest window: every model is scored on the same test rows
    mid, days = day["mid"], day["days"]
    split = train_val_test_split(len(mid), horizon=horizon, seq_len=L, groups=days, val_size=0.2, test_size=0.2)
    change = np.abs(pd.Series(mid).shift(-horizon).to_numpy() / mid - 1)[split.train]
    threshold = float(np.nanquantile(change, 1 / 3))
    y = np.asarray(direction(mid, horizon, threshold=threshold, groups=days))
    test = split.test[: size.test_rows]
    counts = {int(c): int(np.sum(y[test] == c)) for c in (0, 1, 2)}
    print(
        f"  {day['name']}: {len(mid):,} events, {day['levels']} levels, band {threshold * 1e4:.2f} bp, "
        f"train/val/test {split.train.size:,}/{min(split.val.size, size.val_rows):,}/{test.size:,}, test classes "
        f"{counts}",
        flush=True,
    )
    return {"y": y, "train": split.train, "val": split.val[-size.val_rows :], "test": test}


def _fit_score(name: str, params: dict, inputs: list[tuple[dict, pd.DataFrame, dict]], normalise: bool) -> dict:
    """Fit one model on the training rows of every input (one symbol, or pooled), score it on each one's test rows.

    ``inputs`` holds ``(day, frame, labelled)`` per symbol. Pooled: the training (and validation) blocks are
    concatenated, each with its own ``seq_len - 1`` rows of context whose labels are NaN, so no training window
    crosses a symbol; with ``normalise`` (and a model that takes it) each symbol's frame is first z-scored with its
    own training rows' statistics (:class:`signalbench.signals.SymbolScaler`).
    """
    L = 50
    t0 = time.perf_counter()
    model = signals.create(name, **params)
    frames = {day["name"]: frame for day, frame, _ in inputs}
    if normalise and model.per_symbol_normalisation:
        scaler = signals.SymbolScaler().fit((day["name"], f.iloc[lab["train"]]) for day, f, lab in inputs)
        frames = {s: scaler.transform(f, s) for s, f in frames.items()}
    parts = {
        part: [_part(frames[day["name"]], lab["y"], lab[part], L) for day, _, lab in inputs]
        for part in ("train", "val")
    }
    X_tr, y_tr = (
        pd.concat([x for x, _ in parts["train"]], ignore_index=True),
        np.concatenate([y for _, y in parts["train"]]),
    )
    X_va, y_va = (
        pd.concat([x for x, _ in parts["val"]], ignore_index=True),
        np.concatenate([y for _, y in parts["val"]]),
    )
    model.fit(X_tr, y_tr, X_val=X_va, y_val=y_va)
    history = [
        {k: float(h[k]) for k in ("train_loss", "val_loss", "val_accuracy", "lr", "seconds")}
        for h in getattr(model, "history_", None) or []
    ]
    out = {"fit_s": time.perf_counter() - t0, "curve": _curve(history), "history": history, "symbols": {}}
    for day, _, lab in inputs:
        X_te, y_te = _part(frames[day["name"]], lab["y"], lab["test"], L)
        proba = model.predict_proba(X_te)[L - 1 :]
        y_te = y_te[L - 1 :]
        pred = np.where(np.isfinite(proba).all(axis=1), np.argmax(np.nan_to_num(proba), axis=1), np.nan)
        ok = np.isfinite(y_te) & np.isfinite(pred)
        test = lab["test"]
        net, efficiency = _earnings(proba, day["book1"].iloc[test[0] : test[-1] + 1])
        out["symbols"][day["name"]] = {
            "macro_f1": macro_f1(y_te[ok], pred[ok]),
            "net_bps": net,
            "efficiency": efficiency,
        }
    return out


def _curve(history: list[dict]) -> str:
    """The learning curve, train/val loss per epoch (the best epoch's weights are the ones kept)."""
    if not history:
        return ""
    return "  curve (train/val loss) " + " ".join(f"{h['train_loss']:.3f}/{h['val_loss']:.3f}" for h in history)


def _line(label: str, mode: str, result: dict) -> str:
    cells = [
        f"{s} F1 {r['macro_f1']:.4f} net {r['net_bps']:+8.1f} bp eff {r['efficiency']:+7.3f}"
        for s, r in result["symbols"].items()
    ]
    return f"  {label:<11} {mode:<12} " + " | ".join(cells) + f"  fit {result['fit_s']:5.0f} s{result['curve']}"


def lobster(paths: list[Path], size: argparse.Namespace) -> list[dict]:
    """Every model at every horizon: per symbol, then pooled over the symbols (see the module docstring)."""
    days = [_load(p) for p in paths]
    common = [c for c in days[0]["features"].columns if all(c in d["features"].columns for d in days)]
    print(f"== pooled fits read the {len(common)} features every symbol has: {common}", flush=True)
    records = []
    for horizon in size.horizons:
        print(f"== horizon {horizon} events", flush=True)
        labelled = [_labelled(day, horizon, size) for day in days]
        for label, (name, params, kind) in _models(size).items():
            fits = []
            for day, lab in zip(days, labelled):
                frame = day["features"] if kind == "features" else day["book"]
                fits.append(_fit_score(name, params, [(day, frame, lab)], normalise=False))
            per_symbol = {"fit_s": sum(f["fit_s"] for f in fits), "curve": "", "history": {}, "symbols": {}}
            for f in fits:
                (symbol,) = f["symbols"]
                per_symbol["symbols"].update(f["symbols"])
                per_symbol["history"][symbol] = f["history"]
                per_symbol["curve"] += f" [{symbol} {f['fit_s']:.0f} s]{f['curve']}" if f["curve"] else ""
            print(_line(label, "per-symbol", per_symbol), flush=True)
            records.append({"horizon": horizon, "model": label, "mode": "per-symbol", **per_symbol})
            if len(days) < 2:
                continue
            for mode in size.pooled:
                inputs = [
                    (day, day["features"][common] if kind == "features" else day["book1"], lab)
                    for day, lab in zip(days, labelled)
                ]
                pooled = _fit_score(name, params, inputs, normalise=mode == "pooled")
                print(_line(label, mode, pooled), flush=True)
                records.append({"horizon": horizon, "model": label, "mode": mode, **pooled})
    return records


def main():
    import json

    import torch

    p = argparse.ArgumentParser()
    p.add_argument("--synthetic-rows", type=int, default=200_000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-synthetic", action="store_true")
    p.add_argument("--skip-lobster", action="store_true")
    p.add_argument("--symbols", nargs="+", default=["GOOG_2012-06-21_5", "AMZN_2012-06-21_1"])
    p.add_argument("--horizons", nargs="+", type=int, default=[10, 20, 50])
    p.add_argument("--max-windows-per-epoch", type=int, default=None, help="LOBSTER: 2000 if not given, 0: all")
    p.add_argument("--epochs", type=int, default=4, help="LOBSTER neural models")
    p.add_argument("--trees", type=int, default=100, help="LOBSTER LightGBM")
    p.add_argument("--models", nargs="+", default=None, help="only these (default: all)")
    p.add_argument("--book-models", nargs="+", default=["binctabl"], help="order-book models (deeplob tlob mlplob)")
    p.add_argument(
        "--pooled",
        nargs="*",
        choices=["pooled", "pooled-raw"],
        default=["pooled"],
        help="pooled fits: with per-symbol normalisation ('pooled') and/or without ('pooled-raw')",
    )
    p.add_argument("--size-input", choices=["log", "raw"], default="log", help="the book models' sizes")
    p.add_argument("--lr", type=float, default=2e-3, help="the neural models' learning rate")
    p.add_argument("--lr-for", nargs="+", type=_lr_pair, default=[], help="one model's lr: NAME=LR (deeplob=1e-2)")
    p.add_argument("--patience", type=int, default=2, help="LOBSTER neural models: early-stopping patience")
    p.add_argument("--batch-size", type=int, default=64, help="LOBSTER neural models")
    p.add_argument("--seed", type=int, default=0, help="LOBSTER neural models: initial weights and window draws")
    p.add_argument("--val-rows", type=int, default=1500, help="last rows of the validation part used")
    p.add_argument("--test-rows", type=int, default=4000, help="first rows of the test part scored")
    p.add_argument("--json", type=Path, default=None, help="also write the LOBSTER results here")
    a = p.parse_args()
    a.lr_for = dict(a.lr_for)
    torch.set_num_threads(a.threads)
    if not a.skip_synthetic:
        TRAIN["max_windows_per_epoch"] = a.max_windows_per_epoch or None
        synthetic(a.synthetic_rows)
    a.max_windows_per_epoch = 2000 if a.max_windows_per_epoch is None else a.max_windows_per_epoch or None
    if not a.skip_lobster:
        paths = [LOBSTER / f"LOBSTER_SampleFile_{symbol}.zip" for symbol in a.symbols]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            print(f"== not found, skipped: {missing}")
        records = lobster([p for p in paths if p.is_file()], a)
        if a.json:
            a.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
