"""Full-size learning runs: do the models find the edge that is there, and only that?

1. Synthetic ticks (``synthetic_ticks``, queue-imbalance edge) at ``--synthetic-rows`` rows for edges 0.6, 0.3 and 0:
   directional accuracy on the test rows where the mid moves (up if P(up) > P(down)) of the LSTM, the Transformer,
   logistic and majority, next to the generator's Bayes-optimal accuracy (expected, and realised on the same rows).
   Chronological 60/20/20 split; early stopping on the validation part.
2. The shared LOBSTER samples (GOOG 2012-06-21, 5 levels; AMZN 2012-06-21, 1 level), per symbol (one day each; no
   pooling across symbols yet): 3-class direction over ``--horizons`` events (10, 20, 50) with the stationary band
   set to the 1/3 quantile of the |h-event return| on the training rows, purged chronological 60/20/20 split
   (``train_val_test_split``, seq_len 50). Every model is scored on the same first ``--test-rows`` rows of the test
   part: macro-F1, and the net return and signal efficiency of ``strategies.sign`` on its probabilities after the
   quoted spread (each change of position pays the row's quoted half-spread per unit; additive, bps of the notional).
   Majority, logistic and LightGBM read ``lob_basic`` features; DeepLOB, BiN-CTABL, TLOB and MLPLOB the raw book.
   Validation (early stopping) uses the last ``--val-rows`` rows of the validation part. The deep models train at a
   reduced size (``--max-windows-per-epoch`` windows per epoch, ``--epochs``, smaller widths: ``_book_models``)
   so that the run fits a shared 2-core machine; the learning curve (train/val loss per epoch) is printed.
   Published deep models reach roughly 0.48-0.64 macro-F1 at horizon 10 on LOBSTER stocks; above 0.80 means a leak.

``--threads 1`` is faster than 2 on a loaded machine (oversubscribed torch threads).

Run: SIGNALBENCH_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/models.py --threads 1 --skip-synthetic
     [--symbols GOOG_2012-06-21_5 AMZN_2012-06-21_1] [--horizons 10 20 50] [--max-windows-per-epoch 1500]
     [--epochs 3] [--val-rows 1500] [--test-rows 4000] [--models deeplob ...] [--size-input log|raw]
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


def _book_models(size: argparse.Namespace) -> dict:
    """The order-book models at the benchmark's size: ``--max-windows-per-epoch`` windows, ``--epochs`` epochs."""
    train = {**TRAIN, "epochs": size.epochs, "max_windows_per_epoch": size.max_windows_per_epoch or 1500}
    train["patience"] = 2
    train["batch_size"] = 64
    train["size_input"] = size.size_input
    train["lr"] = size.lr
    train["class_weight"] = None if size.class_weight == "none" else "balanced"
    return {
        "deeplob": {"seq_len": 50, "conv_channels": 16, "inception_channels": 32, "lstm_hidden": 32, **train},
        "binctabl": {"seq_len": 10, **train},
        "tlob": {"seq_len": 50, "hidden": 32, "num_layers": 2, **train},
        "mlplob": {"seq_len": 50, "hidden": 32, "num_layers": 2, **train},
    }


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


def _one_model(name, params, frame, y, split, L, size):
    t0 = time.perf_counter()
    X_tr, y_tr = _part(frame, y, split.train, L)
    X_va, y_va = _part(frame, y, split.val[-size.val_rows :], L)
    X_te, y_te = _part(frame, y, split.test[: size.test_rows], L)
    model = signals.create(name, **params).fit(X_tr, y_tr, X_val=X_va, y_val=y_va)
    fit_s = time.perf_counter() - t0
    proba = model.predict_proba(X_te)[L - 1 :]
    y_te = y_te[L - 1 :]
    pred = np.where(np.isfinite(proba).all(axis=1), np.argmax(np.nan_to_num(proba), axis=1), np.nan)
    ok = np.isfinite(y_te) & np.isfinite(pred)
    return model, macro_f1(y_te[ok], pred[ok]), proba, fit_s, time.perf_counter() - t0 - fit_s


def _curve(model) -> str:
    history = getattr(model, "history_", None)
    if not history:
        return ""
    return "  curve (train/val loss) " + " ".join(f"{h['train_loss']:.3f}/{h['val_loss']:.3f}" for h in history)


def lobster(path: Path, size: argparse.Namespace) -> None:
    """Every model at every horizon of ``--horizons`` on one LOBSTER day (see the module docstring)."""
    from signalbench.data.lobster import load_lobster

    df = load_lobster(path)
    levels = sum(c.startswith("ask_price_") for c in df.columns)
    book = df[signals.DeepLOBModel.book_columns(levels)]
    X = compute_features(df, "lob_basic")
    mid = mid_price(df)
    days = df["day"].to_numpy()
    L = 50  # the longest window: every model is scored on the same test rows
    for horizon in size.horizons:
        split = train_val_test_split(len(df), horizon=horizon, seq_len=L, groups=days, val_size=0.2, test_size=0.2)
        change = np.abs(pd.Series(mid).shift(-horizon).to_numpy() / mid - 1)[split.train]
        threshold = float(np.nanquantile(change, 1 / 3))
        y = np.asarray(direction(mid, horizon, threshold=threshold, groups=days))
        test = split.test[: size.test_rows]
        counts = {int(c): int(np.sum(y[test] == c)) for c in (0, 1, 2)}
        print(
            f"== {path.name[len('LOBSTER_SampleFile_') : -4]}: {len(df):,} events, {levels} levels, horizon "
            f"{horizon}, band {threshold * 1e4:.2f} bp, train/val/test {split.train.size:,}/"
            f"{min(split.val.size, size.val_rows):,}/{test.size:,} (first test rows), test classes {counts}",
            flush=True,
        )
        test_book = book.iloc[test[0] : test[-1] + 1]
        models = {
            "majority": ("majority", {}, X),
            "logistic": ("logistic", {}, X),
            "lightgbm": ("lightgbm", {"n_estimators": 200, "num_leaves": 31}, X),
            **{name: (name, params, book) for name, params in _book_models(size).items()},
        }
        for label, (name, params, frame) in models.items():
            if size.models and label not in size.models:
                continue
            model, f1, proba, fit_s, pred_s = _one_model(name, params, frame, y, split, L, size)
            net_bps, efficiency = _earnings(proba, test_book)
            print(
                f"  {label:<10} macro-F1 {f1:.4f}  net {net_bps:+9.1f} bp  efficiency {efficiency:+.4f}  "
                f"fit {fit_s:5.0f} s  predict {pred_s:4.0f} s{_curve(model)}",
                flush=True,
            )


def main():
    import torch

    p = argparse.ArgumentParser()
    p.add_argument("--synthetic-rows", type=int, default=200_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-synthetic", action="store_true")
    p.add_argument("--skip-lobster", action="store_true")
    p.add_argument("--symbols", nargs="+", default=["GOOG_2012-06-21_5", "AMZN_2012-06-21_1"])
    p.add_argument("--horizons", nargs="+", type=int, default=[10, 20, 50])
    p.add_argument("--max-windows-per-epoch", type=int, default=None, help="LOBSTER book models: 1500 if not given")
    p.add_argument("--epochs", type=int, default=3, help="LOBSTER book models")
    p.add_argument("--models", nargs="+", default=None, help="only these (default: all)")
    p.add_argument("--size-input", choices=["log", "raw"], default="log", help="the book models' sizes")
    p.add_argument("--lr", type=float, default=2e-3, help="the book models' learning rate")
    p.add_argument("--class-weight", choices=["balanced", "none"], default="balanced", help="the book models'")
    p.add_argument("--val-rows", type=int, default=1500, help="last rows of the validation part used")
    p.add_argument("--test-rows", type=int, default=4000, help="first rows of the test part scored")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if not a.skip_synthetic:
        TRAIN["max_windows_per_epoch"] = a.max_windows_per_epoch
        synthetic(a.synthetic_rows)
    if not a.skip_lobster:
        for symbol in a.symbols:
            path = LOBSTER / f"LOBSTER_SampleFile_{symbol}.zip"
            if path.is_file():
                lobster(path, a)
            else:
                print(f"== {path} not found, skipped")


if __name__ == "__main__":
    main()
