"""The research service: importing and searching 10,000 runs on SQLite; 50 concurrent clients on the loopback server.

1. ``--runs`` (10,000) run folders are written (9 columns each: 6 model x strategy columns and 3 benchmarks, 25
   metrics per column, as a real metrics.json has), imported with ``import_runs`` (timed), imported again (nothing
   to do: timed), then searched: the top 50 by the best Sharpe, the top 50 by one column's Sharpe, and a filter with
   AND and OR sorted by a metric (median and max of 20 calls each; the goal is under 100 ms).
2. ``signalbench serve`` is started in its own process on a free loopback port over 200 of those runs and a saved
   logistic model; ``--clients`` (50) threads each send their share of ``--requests`` (2,000): 80% reads (a
   metric-sorted page of runs, a run's detail, a filtered search) and 20% predictions of 20 feature rows. Throughput,
   p50 and p99 latency per kind and the number of errors (any status other than 200) are printed.

``python benchmarks/service.py [--runs 10000] [--clients 50] [--requests 2000]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signalbench.service import db, keys, migrate  # noqa: E402
from signalbench.service.importer import import_runs  # noqa: E402
from signalbench.service.search import search_runs  # noqa: E402

METRICS = [f"m{k}" for k in range(22)] + ["sharpe", "total_return_additive", "max_drawdown"]
COLUMNS = [f"{m}:{s}" for m in ("lstm", "transformer", "logistic") for s in ("sign", "threshold")]
BENCH = ["oracle", "naive_oracle", "buy_and_hold"]


def write_runs(root: Path, n: int, seed: int = 0) -> None:
    """``n`` run folders with the files the service reads."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        folder = root / f"exp{i % 50}-2026{1 + i % 12:02d}{1 + i % 28:02d}T{i % 24:02d}{i % 60:02d}00Z-{i}"
        folder.mkdir(parents=True)
        values = rng.normal(size=(len(COLUMNS) + len(BENCH), len(METRICS)))
        columns = {c: {"benchmark": False, "model": c.split(":")[0], "strategy": c.split(":")[1], "params": {},
                       **dict(zip(METRICS, map(float, row)))} for c, row in zip(COLUMNS, values)}
        columns |= {b: {"benchmark": True, **dict(zip(METRICS, map(float, row)))}
                    for b, row in zip(BENCH, values[len(COLUMNS):])}
        config = {"name": f"exp{i % 50}", "seed": int(i), "device": "cpu",
                  "data": {"kind": "synthetic", "n": 1000 + i % 7},
                  "labels": {"kind": "direction", "horizon": int(1 + i % 10)},
                  "models": [{"name": "lstm", "seq_len": int(10 + i % 5)}], "strategies": [{"rule": "sign"}]}
        (folder / "metrics.json").write_text(json.dumps({"data": "synthetic", "columns": columns, "notes": []}))
        (folder / "config.json").write_text(json.dumps(config))


def _timed(fn, repeat: int = 20) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def search_benchmark(tmp: Path, n: int) -> Path:
    runs = tmp / "runs"
    runs.mkdir()
    t0 = time.perf_counter()
    write_runs(runs, n)
    print(f"wrote {n:,} run folders in {time.perf_counter() - t0:.1f} s")
    engine = db.make_engine(f"sqlite:///{tmp / 'bench.sqlite'}")
    migrate.upgrade(engine)
    t0 = time.perf_counter()
    summary = import_runs(engine, runs)
    took = time.perf_counter() - t0
    print(f"import: {len(summary.imported):,} runs in {took:.1f} s ({len(summary.imported) / took:,.0f} runs/s)")
    t0 = time.perf_counter()
    again = import_runs(engine, runs)
    print(f"import again: {len(again.imported)} imported, {len(again.present):,} present, "
          f"{time.perf_counter() - t0:.2f} s")
    queries = {
        "top 50 by best sharpe": dict(sort="-metric.sharpe"),
        "top 50 by sharpe@lstm:sign": dict(sort="-metric.sharpe@lstm:sign"),
        "filter AND/OR, sorted by a metric": dict(
            q="param.labels.horizon >= 5 and (metric.sharpe > 1.5 or name = exp3)", sort="-metric.m4"),
        "second page (cursor)": None,
    }
    with engine.connect() as conn:
        rows, cursor = search_runs(conn, sort="-metric.sharpe", limit=50)
        queries["second page (cursor)"] = dict(sort="-metric.sharpe", cursor=cursor)
        for name, kw in queries.items():
            med, worst = _timed(lambda kw=kw: search_runs(conn, limit=50, **kw))
            print(f"search {name}: median {med * 1e3:.1f} ms, max {worst * 1e3:.1f} ms (20 calls)")
    engine.dispose()
    return runs


def _serve(tmp: Path, runs_src: Path):
    import pandas as pd

    from signalbench.signals.registry import create

    runs = tmp / "served"
    runs.mkdir()
    for folder in sorted(runs_src.iterdir())[:200]:  # copies (a symbolic link to a run folder is not imported)
        (runs / folder.name).mkdir()
        for f in folder.iterdir():
            (runs / folder.name / f.name).write_bytes(f.read_bytes())
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(500, 8)), columns=[f"f{k}" for k in range(8)])
    model = create("logistic").fit(X, (X["f0"] > 0).astype(int).to_numpy() * 2)
    first = sorted(runs.iterdir())[0]
    model.save(first / "models" / "logistic")
    url = f"sqlite:///{tmp / 'served.sqlite'}"
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    import_runs(engine, runs)
    key = keys.create_key(engine, "bench", ["write"])
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-c", "import sys; from signalbench.cli import main; sys.exit(main())", "serve",
           "--db", url, "--runs", str(runs), "--port", str(port), "--no-jobs"]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    deadline = time.monotonic() + 120
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.3)
    return proc, f"127.0.0.1:{port}", key, f"logistic@{first.name}", X


def load_benchmark(tmp: Path, runs_src: Path, clients: int, requests: int) -> None:
    proc, host, key, model, X = _serve(tmp, runs_src)
    ids = [p.name for p in sorted((tmp / "served").iterdir())]
    body = json.dumps({"columns": list(X.columns), "rows": X.iloc[:20].to_numpy().tolist()}).encode()
    auth = {"Authorization": f"Bearer {key}"}
    lat: dict[str, list[float]] = {"read": [], "predict": []}
    errors: list[str] = []
    lock = threading.Lock()

    def client(k: int, n: int) -> None:
        rnd = random.Random(k)
        conn = http.client.HTTPConnection(host, timeout=60)
        for _ in range(n):
            if rnd.random() < 0.2:
                kind, method, path, data = "predict", "POST", f"/api/v1/models/{model}/predict", body
            else:
                kind, method, data = "read", "GET", None
                path = rnd.choice([
                    "/api/v1/runs?sort=-metric.sharpe&limit=20",
                    f"/api/v1/runs/{rnd.choice(ids)}",
                    "/api/v1/runs?q=param.labels.horizon%20%3E%3D%205%20or%20metric.sharpe%20%3E%201&limit=20",
                ])
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers={**auth, "Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except OSError as exc:
                status = repr(exc)
                conn = http.client.HTTPConnection(host, timeout=60)
            took = time.perf_counter() - t0
            with lock:
                lat[kind].append(took)
                if status != 200:
                    errors.append(f"{method} {path}: {status}")

    warm = http.client.HTTPConnection(host, timeout=120)  # the first prediction loads the model (and torch)
    json_headers = {**auth, "Content-Type": "application/json"}
    warm.request("POST", f"/api/v1/models/{model}/predict", body=body, headers=json_headers)
    assert warm.getresponse().status == 200
    share = [requests // clients + (k < requests % clients) for k in range(clients)]
    threads = [threading.Thread(target=client, args=(k, share[k])) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    proc.terminate()
    proc.wait(timeout=30)
    total = sum(len(v) for v in lat.values())
    print(f"load: {clients} clients, {total:,} requests in {wall:.1f} s: {total / wall:,.0f} requests/s, "
          f"{len(errors)} errors")
    for kind, values in lat.items():
        p50, p99 = np.quantile(values, [0.5, 0.99]) * 1e3
        print(f"  {kind}: {len(values):,} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    for e in errors[:5]:
        print(f"  error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signalbench-service-bench-") as tmp:
        runs = search_benchmark(Path(tmp), args.runs)
        load_benchmark(Path(tmp), runs, args.clients, args.requests)


if __name__ == "__main__":
    main()
