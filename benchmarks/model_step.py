"""Per-event latency of model steps (``model.stepper``): torch vs onnxruntime, window vs stateful mode.

Network: 20 features, LSTM hidden 64, 2 layers (issue 12's reference). Window mode: the plain ``lstm`` (read at the
last step, linear head) on a ring buffer of ``--seq-len`` rows; stateful mode: ``stateful_lstm``, one LSTM step per
event carrying ``(h, c)``. Each stepper steps ``--steps`` random rows after a warm-up; every step is timed with
``perf_counter_ns`` and the percentiles p50 / p90 / p99 / max are printed in microseconds, with the ratios torch /
onnxruntime.

Floors measured in the same run:

- the bare onnxruntime call of the single-step graph (``session.run`` with a feed dict, and ``run_with_iobinding``),
  so the stepper's own overhead (row checks, NaN test, state swap) is visible;
- the bare torch ``nn.LSTM`` call on a ``(1, 1, F)`` tensor with its state.

When the ``online`` branch's :class:`signalbench.data.OnlineFeatures` is importable (after the merge), the script
also times ``update`` on the AMZN sample's events followed by a stateful onnxruntime step on the resulting
``lob_basic`` row, against issue 12's goal: features plus step at most 25 us median, p99 under 100 us.

Run: .venv/bin/python benchmarks/model_step.py [--steps 20000] [--seq-len 100] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

F, HIDDEN, LAYERS = 20, 64, 2
SHARED = Path(os.environ.get("SIGNALBENCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def fit(name: str, n_features: int, seq_len: int, seed: int = 0):
    """A tiny fit (weights do not matter for speed): the scaler and classes exist."""
    import signalbench.signals as signals

    params = {"hidden_size": HIDDEN, "num_layers": LAYERS, "epochs": 1, "progress": False, "device": "cpu"}
    if name == "lstm":
        params |= {"seq_len": seq_len, "bidirectional": False, "pooling": "last", "head_size": 0}
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((1500, n_features))
    y = rng.integers(0, 3, size=1500).astype(float)
    return signals.create(name, **params).fit(X, y)


def percentiles(ns: np.ndarray) -> dict[str, float]:
    """p50, p90, p99 and max of nanosecond timings, in microseconds."""
    us = ns / 1e3
    return {"p50": float(np.percentile(us, 50)), "p90": float(np.percentile(us, 90)),
            "p99": float(np.percentile(us, 99)), "max": float(us.max())}  # fmt: skip


def time_calls(fn, rows: np.ndarray, warmup: int = 300) -> dict[str, float]:
    """Per-call latency of ``fn(row)`` over ``rows`` (after ``warmup`` calls)."""
    for row in rows[:warmup]:
        fn(row)
    out = np.empty(len(rows), dtype=np.int64)
    clock = time.perf_counter_ns
    for i, row in enumerate(rows):
        t0 = clock()
        fn(row)
        out[i] = clock() - t0
    return percentiles(out)


def show(label: str, stats: dict[str, float]) -> None:
    print(f"  {label:<44} " + "  ".join(f"{k} {v:8.1f}" for k, v in stats.items()))


def bare_floors(model, rows: np.ndarray) -> dict[str, dict[str, float]]:
    """The bare onnxruntime and torch calls of one stateful step (no stepper around them)."""
    import torch

    from signalbench.signals.onnx import step_graph
    from signalbench.signals.stepping import ort_session

    sess = ort_session(step_graph(model))
    h = np.zeros((LAYERS, 1, HIDDEN), dtype=np.float32)
    feeds = {"x": rows[:1].copy(), "h": h, "c": h.copy()}

    def ort_run(row):
        feeds["x"][0] = row
        p, feeds["h"], feeds["c"] = sess.run(None, feeds)

    lstm = model.net_.lstm
    x = torch.zeros(1, 1, rows.shape[1])
    state = (torch.zeros(LAYERS, 1, HIDDEN), torch.zeros(LAYERS, 1, HIDDEN))

    def torch_run(row):
        nonlocal state
        with torch.inference_mode():
            x[0, 0] = torch.from_numpy(row.astype(np.float32))
            _, state = lstm(x, state)

    return {
        "ort session.run (feed dict)": time_calls(ort_run, rows),
        "torch nn.LSTM (1,1,F)": time_calls(torch_run, rows),
    }


def with_features(model_rows: int) -> None:
    """Online features plus a stateful onnxruntime step per AMZN event, when OnlineFeatures exists."""
    try:
        from signalbench.data import OnlineFeatures, load_lobster
    except ImportError:
        print("\nfeatures + step: signalbench.data.OnlineFeatures is not on this branch (issue 12's online branch)")
        return
    path = SHARED / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
    if not path.is_file():
        print(f"\nfeatures + step: {path} not found")
        return
    online = OnlineFeatures("lob_basic")
    frame = load_lobster(path).iloc[:model_rows]
    events = frame[list(online.fields)].to_numpy(np.float64)
    model = fit("stateful_lstm", len(online.names), 1)
    stepper = model.stepper("stateful", "onnxruntime")

    def both(event):
        stepper.step(online.update(event))

    feats = time_calls(online.update, events)
    online.reset()
    total = time_calls(both, events)
    print(f"\nfeatures (lob_basic, {len(online.names)} columns) + stateful onnxruntime step, AMZN events")
    show("OnlineFeatures.update", feats)
    show("update + step", total)
    verdict = "met" if total["p50"] <= 25 and total["p99"] < 100 else "missed"
    print(f"  goal p50 <= 25 us and p99 < 100 us: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads of the process (the steppers run on 1 thread; this sets the bare torch floor's)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    rows = np.random.default_rng(1).standard_normal((args.steps, F))
    window, stateful = fit("lstm", F, args.seq_len), fit("stateful_lstm", F, 1)
    results = {}
    print(f"per-step latency in us ({args.steps} steps; torch threads {args.threads}; F={F}, hidden {HIDDEN}, "
          f"{LAYERS} layers; window seq_len {args.seq_len})")  # fmt: skip
    for mode, model in (("window", window), ("stateful", stateful)):
        for backend in ("torch", "onnxruntime"):
            stepper = model.stepper(mode, backend)
            results[mode, backend] = time_calls(stepper.step, rows)
            show(f"{mode:<8} {backend}", results[mode, backend])
    for mode in ("window", "stateful"):
        t, o = results[mode, "torch"], results[mode, "onnxruntime"]
        print(f"  ratio torch / onnxruntime, {mode}: p50 {t['p50'] / o['p50']:.1f}x, p99 {t['p99'] / o['p99']:.1f}x")
    print("floors (stateful step without the stepper):")
    for label, stats in bare_floors(stateful, rows).items():
        show(label, stats)
    with_features(args.steps)


if __name__ == "__main__":
    main()
