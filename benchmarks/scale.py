"""A multi-day, multi-symbol synthetic experiment as a task graph: 1 and 2 local workers, a Dask LocalCluster of 2.

Usage: ``python benchmarks/scale.py [--symbols 3] [--days 30] [--ticks 1000] [--skip-dask]``.

Runs ``examples/synthetic_days.toml``'s experiment (sizes from the flags) four times, each into a fresh run folder:
the local executor with 1 worker (in this process) and with 2 worker processes, a Dask ``LocalCluster`` of 2 worker
processes (the ``distributed`` extra), then the last run again with everything cached (``--resume``: every task found
in the store). Prints wall seconds, the speed-up of 2 workers over 1, the Dask run's overhead per task against the local
pool of the same size (``(dask - local 2) / tasks``: scheduling, futures, the cluster's start), and the cached re-run
against that run computed (the goal: under 10%). Each run's ``metrics.json`` is checked to be identical to the first's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from pathlib import Path

from signalbench.experiment import compare, parse_experiment
from signalbench.experiment.multirun import read_run_config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "synthetic_days.toml"


def _config(symbols: int, days: int, ticks: int) -> dict:
    raw = tomllib.loads(EXAMPLE.read_text())
    raw["data"].update(symbols=symbols, days=days, n=days * ticks, ticks_per_day=ticks)
    raw["split"]["test_days"] = days - raw["split"]["train_days"] - raw["split"]["val_days"]
    return raw


def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    raw = _config(args.symbols, args.days, args.ticks)
    exp = parse_experiment(raw, base_dir=EXAMPLE.parent)
    runs = [
        ("local, 1 worker", {"executor": "local", "workers": 1}),
        ("local, 2 workers", {"executor": "local", "workers": 2}),
    ]
    if not args.skip_dask:
        runs.append(("dask LocalCluster, 2 workers", {"executor": "dask", "workers": 2}))
    with tempfile.TemporaryDirectory() as tmp:
        times: dict[str, float] = {}
        first = None
        for i, (name, compute) in enumerate(runs):
            out = Path(tmp) / f"run{i}"
            times[name], res = _timed(lambda c=compute, o=out: compare(exp, out=o, report=False, compute=c))
            n_tasks = len(res.graph.tasks)
            text = (out / "metrics.json").read_text()
            first = first or text
            same = "identical" if text == first else "DIFFERENT"
            print(f"{name:32s} {times[name]:8.1f} s  ({n_tasks} tasks, metrics.json {same})")
        last = Path(tmp) / f"run{len(runs) - 1}"
        cached, res = _timed(lambda: compare(read_run_config(last), out=last, resume=True, report=False))
        print(f"{'cached re-run (--resume)':32s} {cached:8.1f} s  ({len(res.run.cached)} of {n_tasks} cached)")
    one, two = times["local, 1 worker"], times["local, 2 workers"]
    print(f"speed-up of 2 local workers over 1: {one / two:.2f}x")
    if "dask LocalCluster, 2 workers" in times:
        per_task = (times["dask LocalCluster, 2 workers"] - two) / n_tasks
        print(f"Dask overhead per task against the local pool of 2: {per_task * 1e3:+.1f} ms")
    base = times[runs[-1][0]]
    print(f"cached re-run / the same run computed: {cached / base:.1%} (goal < 10%)")


if __name__ == "__main__":
    main()
