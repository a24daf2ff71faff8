"""Batched CPU inference of the LSTM signal model: throughput against plain torch and onnxruntime, and peak memory.

Network: 20 features, LSTM hidden 64, 2 layers, seq_len 100 (the plain variant: read at the last step, linear head;
``--variant attention`` for the bidirectional attention model), batch 1024, float32, on ``--threads`` CPU threads.

1. Throughput (sequences per second) on ``--rows`` rows:
   - signalbench: ``model.predict_proba(X)`` on the (n, F) array: scaling, windows as strided views copied one batch
     at a time, eval mode, ``inference_mode``, softmax, NumPy out;
   - plain torch: the same ``nn.Module`` on batches sliced from a prebuilt (n_windows, seq_len, F) tensor (the usual
     tutorial way; it costs seq_len times X in memory), under ``inference_mode``;
   - onnxruntime: the exported graph (scaling + network + softmax) on the same prebuilt windows.
   The ratios are printed; all three are checked to agree.
2. Peak memory of ``predict_proba`` on ``--memory-rows`` rows (default 1,000,000), measured in a fresh subprocess:
   tracemalloc's peak of NumPy allocations during the call and the growth of the process's peak RSS, against X and
   against the (n, seq_len, F) copy that stacking the windows would need.

Run: .venv/bin/python benchmarks/inference.py [--rows 60000] [--memory-rows 1000000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

F, HIDDEN, LAYERS, SEQ_LEN, BATCH = 20, 64, 2, 100, 1024


def make_model(variant: str, seed: int = 0):
    import signalbench.signals as signals

    arch = {"bidirectional": False, "pooling": "last", "head_size": 0}
    if variant == "attention":
        arch = {"bidirectional": True, "pooling": "attention", "head_size": 32}
    model = signals.create(
        "lstm",
        seq_len=SEQ_LEN,
        hidden_size=HIDDEN,
        num_layers=LAYERS,
        epochs=1,
        batch_size=256,
        progress=False,
        device="cpu",
        predict_batch_size=BATCH,
        **arch,
    )
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3000, F)).astype(np.float32)
    y = rng.integers(0, 3, size=3000).astype(float)
    return model.fit(X, y)  # weights do not matter for speed; fitted so that the scaler and classes exist


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def throughput(args) -> None:
    import onnxruntime as ort
    import torch

    from signalbench.data.windowing import windows

    torch.set_num_threads(args.threads)
    model = make_model(args.variant)
    X = np.random.default_rng(1).standard_normal((args.rows, F)).astype(np.float32)
    n_windows = args.rows - SEQ_LEN + 1

    # signalbench
    out = model.predict_proba(X)
    t_sb = best_of(lambda: model.predict_proba(X), args.repeats)

    # plain torch on a prebuilt tensor of every window (scaled first, as the model does)
    scaled = ((X - model.scaler_mean_) / model.scaler_scale_).astype(np.float32)
    prebuilt = torch.from_numpy(np.ascontiguousarray(windows(scaled, SEQ_LEN)))  # (n_windows, L, F): a full copy
    net = model.net_

    def plain():
        outs = []
        with torch.inference_mode():
            for i in range(0, n_windows, BATCH):
                outs.append(torch.softmax(net(prebuilt[i : i + BATCH]), dim=1))
        return torch.cat(outs)

    ref = plain().numpy()
    t_pt = best_of(plain, args.repeats)

    # onnxruntime on the same windows, raw (the graph scales)
    with tempfile.TemporaryDirectory() as tmp:
        path = model.export_onnx(Path(tmp) / "lstm.onnx")
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    raw = np.ascontiguousarray(windows(X, SEQ_LEN))

    def onnx_run():
        return np.concatenate([sess.run(None, {"windows": raw[i : i + BATCH]})[0] for i in range(0, n_windows, BATCH)])

    got = onnx_run()
    t_ox = best_of(onnx_run, args.repeats)

    np.testing.assert_allclose(out[SEQ_LEN - 1 :], ref, atol=1e-5)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    rate = {k: n_windows / t for k, t in (("signalbench", t_sb), ("torch", t_pt), ("onnxruntime", t_ox))}
    print(
        f"LSTM ({args.variant}): {F} features, hidden {HIDDEN}, {LAYERS} layers, seq_len {SEQ_LEN}, batch {BATCH}, "
        f"{args.threads} threads, {n_windows:,} windows, best of {args.repeats}"
    )
    for k, r in rate.items():
        print(f"  {k:<12} {r:>10,.0f} sequences/s")
    print(
        f"  signalbench / plain torch = {rate['signalbench'] / rate['torch']:.3f}; "
        f"signalbench / onnxruntime = {rate['signalbench'] / rate['onnxruntime']:.3f}; "
        f"onnxruntime / torch = {rate['onnxruntime'] / rate['torch']:.3f}"
    )
    print(
        f"  prebuilt window tensor for plain torch / onnxruntime: {prebuilt.numel() * 4 / 1e6:,.0f} MB "
        f"(X: {X.nbytes / 1e6:.1f} MB)"
    )


def memory_child(args) -> None:
    """Runs in a fresh process: predict on memory_rows rows and report peaks as JSON."""
    import tracemalloc

    import psutil
    import torch

    torch.set_num_threads(args.threads)
    model = make_model(args.variant)
    X = np.random.default_rng(2).standard_normal((args.memory_rows, F)).astype(np.float32)
    model.predict_proba(X[:5000])  # warm up allocators
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = [rss0]
    done = threading.Event()

    def sample():  # the process's RSS every 5 ms while predicting (ru_maxrss also counts earlier peaks)
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = model.predict_proba(X)
    elapsed = time.perf_counter() - t0
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    done.set()
    sampler.join()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert np.isfinite(out[SEQ_LEN - 1 :]).all()
    print(
        json.dumps(
            {
                "rss0": rss0,
                "maxrss0": maxrss0,
                "maxrss": maxrss,
                "traced": traced,
                "seconds": elapsed,
                "rss_peak": peak[0],
                "x_bytes": X.nbytes,
                "out_bytes": out.nbytes,
            }
        )
    )


def memory(args) -> None:
    cmd = [
        sys.executable,
        __file__,
        "--memory-child",
        "--memory-rows",
        str(args.memory_rows),
        "--threads",
        str(args.threads),
        "--variant",
        args.variant,
    ]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    n = args.memory_rows
    stacked = (n - SEQ_LEN + 1) * SEQ_LEN * F * 4
    growth = res["rss_peak"] - res["rss0"]
    mb = 1e6
    print(
        f"predict_proba on {n:,} rows x {F} features (X float32 {res['x_bytes'] / mb:.0f} MB, output float64 "
        f"{res['out_bytes'] / mb:.0f} MB) in {res['seconds']:.1f} s ({(n - SEQ_LEN + 1) / res['seconds']:,.0f} "
        "sequences/s)"
    )
    print(
        f"  peak NumPy allocations during the call (tracemalloc): {res['traced'] / mb:.0f} MB "
        f"= {res['traced'] / res['x_bytes']:.2f}x X"
    )
    print(
        f"  peak RSS growth during the call (sampled every 5 ms): {growth / mb:.0f} MB "
        f"= {growth / res['x_bytes']:.2f}x X; process RSS before the call {res['rss0'] / mb:.0f} MB"
    )
    print(
        f"  an (n, seq_len, F) window copy would be {stacked / 1e9:.1f} GB: "
        f"{stacked / max(res['traced'], 1):,.0f}x the traced peak"
    )


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=60_000)
    p.add_argument("--memory-rows", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--variant", choices=("plain", "attention"), default="plain")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        memory_child(args)
        return
    throughput(args)
    if not args.skip_memory:
        memory(args)


if __name__ == "__main__":
    main()
