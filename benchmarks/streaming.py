"""Streaming inference on the AMZN day: per-event latency in process, and events per second through Redis.

1. In process (no Redis), for every model x mode x backend: each event of the day goes through
   ``OnlineFeatures.update`` (the feature update) and ``Stepper.step`` (the model step), timed separately with
   ``perf_counter_ns``; percentiles (p50, p90, p99, max) of both and of their sum, over the events that get a
   prediction (warm-up events, which skip the model, are counted apart). Models, fitted for one epoch on the day's own
   features (weights do not change the cost): ``lstm`` (window mode: a unidirectional 2-layer LSTM, hidden 64, read at
   its last step, seq_len 100) and ``stateful_lstm`` (stateful and window mode; hidden 64, 2 layers). The goal
   (issue 12): features + model step <= 25 us median and p99 < 100 us, onnxruntime in stateful mode; the ratios to it
   are printed. Where the time goes: the bare ``InferenceSession.run`` of the stepper's graph on the same inputs
   (the floor of the onnxruntime step), the rest of the step (state copies, NaN checks, softmax), and the feature
   update; and the same network on 20 synthetic features (the issue's reference network, 140 us torch / 21 us ORT).
2. Through Redis: a real ``redis-server`` on a free loopback port (a temporary folder, no persistence); the day is
   replayed as fast as possible (``signalbench stream replay --speed max`` in a subprocess) while the consumer
   (``signalbench stream infer`` in a subprocess) reads, predicts, publishes and writes Parquet; events per second from
   the replay's start to the consumer's last flush, and the sink's own latency percentiles and throughput
   (``signalbench.streaming.analytics.evaluate``).

The consumer runs with ``--torch-threads 1`` (its default: one event at a time gains nothing from intra-op threads);
one extra run on 3,000 events with one torch thread per core shows what that default avoids.

Run: .venv/bin/python benchmarks/streaming.py [--events N] [--threads 1] [--skip-redis]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AMZN = ROOT.parent / "shared" / "data" / "lobster" / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
FEATURES = "lob_basic"
HIDDEN, LAYERS, SEQ_LEN = 64, 2, 100
GOAL_P50_US, GOAL_P99_US = 25.0, 100.0


# ------------------------------------------------------------------------------------------------------- models


def _fit(name: str, X: np.ndarray, y: np.ndarray, **extra):
    import signalbench.signals as signals

    model = signals.create(name, hidden_size=HIDDEN, num_layers=LAYERS, epochs=1, progress=False, device="cpu",
                           **extra)  # fmt: skip
    return model.fit(X, y)


def fit_models(frame, features, n_fit: int = 6000) -> dict:
    """The benchmark's models, fitted on the first ``n_fit`` rows of the day (one epoch)."""
    from signalbench.data.labels import direction

    mid = (frame["ask_price_1"].to_numpy() + frame["bid_price_1"].to_numpy()) / 2
    y = np.asarray(direction(mid, 10), dtype=np.float64)
    X = features.to_numpy(dtype=np.float64)
    ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
    rows = np.flatnonzero(ok)[:n_fit]
    Xf, yf = features.iloc[rows[0] : rows[-1] + 1], y[rows[0] : rows[-1] + 1]  # a frame: the model keeps the names
    lstm = _fit("lstm", Xf, yf, seq_len=SEQ_LEN, bidirectional=False, pooling="last", head_size=0, batch_size=256)
    stateful = _fit("stateful_lstm", Xf, yf)
    return {"lstm": lstm, "stateful_lstm": stateful}


CASES = (("lstm", "window"), ("stateful_lstm", "stateful"))


# ---------------------------------------------------------------------------------------------------- in process


def time_events(online, stepper, events: np.ndarray, columns: np.ndarray | None):
    """Per event: nanoseconds of the feature update and of the model step; whether it predicted."""
    n = events.shape[0]
    feat_ns = np.empty(n, dtype=np.int64)
    model_ns = np.empty(n, dtype=np.int64)
    predicted = np.empty(n, dtype=bool)
    clock = time.perf_counter_ns
    online.reset()
    stepper.reset()
    for i in range(n):
        t0 = clock()
        row = online.update(events[i])
        t1 = clock()
        p = stepper.step(row if columns is None else row[columns])
        t2 = clock()
        feat_ns[i] = t1 - t0
        model_ns[i] = t2 - t1
        predicted[i] = p[0] == p[0]
    return feat_ns, model_ns, predicted


def pct(ns: np.ndarray) -> dict[str, float]:
    us = ns / 1e3
    p50, p90, p99 = np.percentile(us, (50, 90, 99))
    return {"p50": p50, "p90": p90, "p99": p99, "max": float(us.max()), "mean": float(us.mean())}


def _fmt(s: dict[str, float]) -> str:
    return f"{s['p50']:7.1f} {s['p90']:7.1f} {s['p99']:7.1f} {s['max']:8.0f}"


def in_process(frame, models: dict, n_events: int) -> list[dict]:
    from signalbench.data import OnlineFeatures

    online = OnlineFeatures(FEATURES)
    events = frame[list(online.fields)].to_numpy(dtype=np.float64)[:n_events]
    out = []
    print(f"\n1. In process, AMZN day, {len(events):,} events, {len(online.names)} features ({FEATURES}); "
          "microseconds per event over the events that predicted")  # fmt: skip
    print(f"{'model':14} {'mode':8} {'backend':11} | {'feature update p50/p90/p99/max':31} | "
          f"{'model step p50/p90/p99/max':31} | {'features+model p50/p90/p99/max':31} | warm-up")  # fmt: skip
    for name, mode in CASES:
        for backend in ("torch", "onnxruntime"):
            stepper = models[name].stepper(mode, backend)
            cols = [online.names.index(c) for c in stepper.feature_names or online.names]
            columns = None if cols == list(range(len(online.names))) else np.asarray(cols)
            time_events(online, stepper, events[: min(2000, len(events))], columns)  # warm-up (JIT, allocations)
            f_ns, m_ns, ok = time_events(online, stepper, events, columns)
            row = {"model": name, "mode": mode, "backend": backend, "feature": pct(f_ns[ok]),
                   "model_step": pct(m_ns[ok]), "total": pct(f_ns[ok] + m_ns[ok]), "warmup": int((~ok).sum()),
                   "stepper": stepper}  # fmt: skip
            print(f"{name:14} {mode:8} {backend:11} | {_fmt(row['feature'])} | {_fmt(row['model_step'])} | "
                  f"{_fmt(row['total'])} | {row['warmup']}")  # fmt: skip
            out.append(row)
    return out


def goal(rows: list[dict]) -> None:
    for r in rows:
        if (r["model"], r["mode"], r["backend"]) == ("stateful_lstm", "stateful", "onnxruntime"):
            t = r["total"]
            print(f"\ngoal (onnxruntime, stateful; features + model step): median {t['p50']:.1f} us / "
                  f"{GOAL_P50_US:.0f} us = {t['p50'] / GOAL_P50_US:.2f}x the goal; p99 {t['p99']:.1f} us / "
                  f"{GOAL_P99_US:.0f} us = {t['p99'] / GOAL_P99_US:.2f}x  "
                  f"({'met' if t['p50'] <= GOAL_P50_US and t['p99'] < GOAL_P99_US else 'MISSED'})")  # fmt: skip
            print(f"  of the median: feature update {r['feature']['p50']:.1f} us, model step "
                  f"{r['model_step']['p50']:.1f} us")  # fmt: skip


# ------------------------------------------------------------------------------------------ where the time goes


def ort_floor(stepper, n: int = 20_000) -> dict[str, float] | None:
    """Per call: the bare ``InferenceSession`` run of the stepper's own graph on its bound inputs (no Python glue)."""
    eng = getattr(stepper, "_engine", None)
    session = getattr(eng, "session", None)
    if session is None:
        return None
    if hasattr(eng, "bindings"):
        run = lambda: session.run_with_iobinding(eng.bindings[0])  # noqa: E731
    else:
        run = lambda: session.run(None, eng.feeds)  # noqa: E731
    ns = np.empty(n, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        run()
        ns[i] = clock() - t0
    return pct(ns)


def reference_network(n: int = 20_000) -> None:
    """The issue's reference: one stateful LSTM step, 20 features, hidden 64, 2 layers, torch and onnxruntime."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 20))
    y = rng.integers(0, 3, 3000).astype(float)
    model = _fit("stateful_lstm", X, y)
    rows = rng.standard_normal((n, 20))
    print(f"\n3. The reference network (20 random features, hidden {HIDDEN}, {LAYERS} layers), stateful step only, "
          f"{n:,} steps; microseconds p50/p90/p99/max")  # fmt: skip
    for backend in ("torch", "onnxruntime"):
        stepper = model.stepper("stateful", backend)
        for r in rows[:500]:
            stepper.step(r)
        ns = np.empty(n, dtype=np.int64)
        clock = time.perf_counter_ns
        for i in range(n):
            t0 = clock()
            stepper.step(rows[i])
            ns[i] = clock() - t0
        floor = ort_floor(stepper) if backend == "onnxruntime" else None
        extra = f"   (bare session run: {_fmt(floor)})" if floor else ""
        print(f"  {backend:11} {_fmt(pct(ns))}{extra}")


def breakdown(rows: list[dict]) -> None:
    print(
        "\n2. Where the model step's time goes (onnxruntime): the bare session run of the stepper's graph on its bound"
    )
    print("   inputs, against the whole step; the rest is Python glue (row checks, ring buffer / state swap, copies)")
    for r in rows:
        if r["backend"] != "onnxruntime":
            continue
        floor = ort_floor(r["stepper"])
        if floor is None:
            continue
        step = r["model_step"]
        glue = step["p50"] - floor["p50"]
        print(f"  {r['model']:14} {r['mode']:8} step p50 {step['p50']:6.1f} us = session run {floor['p50']:6.1f} "
              f"us + glue {glue:5.1f} us; feature update p50 {r['feature']['p50']:.1f} us")  # fmt: skip


# ---------------------------------------------------------------------------------------------------- through Redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """A real redis-server on a free loopback port, data in ``folder``, no persistence; its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server not found (apt-get install redis-server), or pass --skip-redis")
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not answer within 10 s")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "signalbench.cli", "stream", *args]


def _wait_for_group(url: str, stream: str = "lob:events", group: str = "signalbench", timeout: float = 120.0) -> None:
    """Wait until the consumer has started (its group exists): its start-up is not counted."""
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(g["name"].decode() == group for g in client.xinfo_groups(stream)):
                return
        except redis.ResponseError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the consumer did not create its group within {timeout:.0f} s")


def one_pipeline(model, mode: str, backend: str, events: int | None, threads: str) -> dict:
    """Consumer started and ready, then the replay at max speed; both run until the consumer exits at the end."""
    from signalbench.streaming.analytics import evaluate

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        proc, url = start_redis(tmp)
        try:
            model.save(tmp / "models" / "m")
            infer = subprocess.Popen(
                _cli("infer", "--model", str(tmp / "models" / "m"), "--sink", str(tmp / "sink"), "--mode", mode,
                     "--backend", backend, "--features", FEATURES, "--redis", url, "--exit-at-end",
                     "--batch-size", "5000", "--metrics-interval", "3600", "--torch-threads", threads),
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            _wait_for_group(url)
            limit = ["--limit", str(events)] if events else []
            t0 = time.perf_counter()
            subprocess.run(_cli("replay", str(AMZN), "--redis", url, *limit), env=env, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            t_replay = time.perf_counter() - t0
            _, err = infer.communicate(timeout=3000)
            if infer.returncode != 0:
                raise SystemExit(f"stream infer failed ({infer.returncode}): {err.decode()[-2000:]}")
            ev = evaluate(tmp / "sink", data=AMZN, labels={"kind": "direction", "horizon": 10}, write=False)
            sink = read_sink_frame(tmp / "sink")
        finally:
            proc.kill()
            proc.wait()
    n = ev.throughput["events"]
    span = (sink["published_ns"].max() - sink["producer_ns"].min()) / 1e9
    return {"n": n, "pipeline": n / span, "consumer": ev.throughput["events_per_s"], "replay_s": t_replay,
            "e2e": ev.latency["e2e_us"], "model_p50": ev.latency["model_us"]["p50"],
            "feature_p50": ev.latency["feature_us"]["p50"]}  # fmt: skip


def read_sink_frame(folder: Path):
    from signalbench.streaming.sinkread import load_sink

    return load_sink(folder).frame


def through_redis(models: dict, events: int | None) -> None:
    print(
        "\n4. Through Redis (a real redis-server): replay --speed max -> consumer (online features, model step, "
        "publish, Parquet sink), in two processes at once, the consumer started first (its start-up not counted)"
    )
    print("   pipeline: events / (last published - first produced); consumer: events / (last published - first "
          "received); e2e: producer send -> publish (with the replay at max speed it is mostly queueing)")  # fmt: skip
    print(f"{'model':14} {'mode':8} {'backend':11} {'torch thr':9} | {'events':>6} {'pipeline/s':>10} "
          f"{'consumer/s':>10} | {'e2e p50/p99 (ms)':>17} | feature/model p50 (us)")  # fmt: skip
    runs = [(name, mode, backend, "1") for name, mode in CASES for backend in ("torch", "onnxruntime")]
    runs.append(("stateful_lstm", "stateful", "torch", str(os.cpu_count())))  # one thread per core, on a slice (slow)
    for name, mode, backend, threads in runs:
        n_events = events if threads == "1" else min(events or 3000, 3000)
        r = one_pipeline(models[name], mode, backend, n_events, threads)
        label = threads
        print(f"{name:14} {mode:8} {backend:11} {label:9} | {r['n']:6d} {r['pipeline']:10.0f} {r['consumer']:10.0f} "
              f"| {r['e2e']['p50'] / 1e3:8.1f} {r['e2e']['p99'] / 1e3:8.1f} | "
              f"{r['feature_p50']:.1f} / {r['model_p50']:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="only the first N events of the day (default: all 57,515)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: one event at a time)")
    parser.add_argument("--skip-redis", action="store_true", help="only the in-process part")
    args = parser.parse_args()
    import torch

    from signalbench.data import compute_features, load_lobster

    torch.set_num_threads(args.threads)
    frame = load_lobster(AMZN)
    features = compute_features(frame, FEATURES)
    models = fit_models(frame, features)
    n = args.events or len(frame)
    rows = in_process(frame, models, n)
    goal(rows)
    breakdown(rows)
    reference_network()
    if not args.skip_redis:
        through_redis(models, args.events)
    print(json.dumps({"machine": {"cpus": os.cpu_count(), "load": os.getloadavg()}}))


if __name__ == "__main__":
    main()
