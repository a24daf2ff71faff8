"""Peak memory of iterating sequence windows, as a multiple of X itself.

X: 1,000,000 rows x 40 features (float32, 160 MB), seq_len 100. A Python loop that stacks every window builds one
(n - seq_len + 1, seq_len, F) array: computed here, never allocated (about 16 GB). We iterate all windows with
``iter_batches`` and measure (a) tracemalloc's peak of Python/NumPy allocations during the loop and (b) the growth of
the process RSS (psutil), both against X's size.

Run: .venv/bin/python benchmarks/windows.py [--rows 1000000] [--features 40] [--seq-len 100] [--batch 1024]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import psutil
import torch

from signalbench.data.windowing import iter_batches, windows


def iterate(X, seq_len, batch_size, proc):
    """Iterate every window once; returns (windows, seconds, traced peak bytes, RSS growth bytes)."""
    rss0 = proc.memory_info().rss
    rss_peak = rss0
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    checksum = torch.zeros((), dtype=torch.float64)
    count = 0
    i = 0
    # No enumerate(): it caches its last (i, batch) tuple, which keeps the previous batch alive while the next is
    # built (two batches at the peak instead of one).
    for batch in iter_batches(X, seq_len, batch_size):  # (batch, seq_len, F) float32
        checksum += batch[:, -1, 0].sum(dtype=torch.float64)
        count += batch.shape[0]
        del batch
        if i % 32 == 0:
            rss_peak = max(rss_peak, proc.memory_info().rss)
        i += 1
    elapsed = time.perf_counter() - t0
    traced_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    rss_peak = max(rss_peak, proc.memory_info().rss)
    np.testing.assert_allclose(float(checksum), X[seq_len - 1 :, 0].astype(np.float64).sum(), rtol=1e-6)
    return count, elapsed, traced_peak, rss_peak - rss0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=40)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--batch", type=int, default=1024)
    a = p.parse_args()

    proc = psutil.Process()
    X = np.random.default_rng(0).standard_normal((a.rows, a.features), dtype=np.float32)
    x_bytes = X.nbytes
    n_windows = a.rows - a.seq_len + 1
    stacked_bytes = n_windows * a.seq_len * a.features * X.itemsize
    batch_bytes = a.batch * a.seq_len * a.features * 4

    W = windows(X, a.seq_len)
    assert np.shares_memory(W, X) and W.shape == (n_windows, a.seq_len, a.features)

    count, elapsed, traced_peak, rss_growth = iterate(X, a.seq_len, a.batch, proc)
    assert count == n_windows

    gb = 1e9
    print(f"X: {a.rows:,} x {a.features} float32 = {x_bytes / gb:.3f} GB; seq_len {a.seq_len}, batch {a.batch}")
    print(
        f"stacked copy a window loop allocates: {stacked_bytes / gb:.1f} GB = {stacked_bytes / x_bytes:.0f}x X "
        "(computed, not allocated)"
    )
    print(f"one batch: {batch_bytes / 1e6:.1f} MB = {batch_bytes / x_bytes:.3f}x X")
    print(f"iterated {count:,} windows in {elapsed:.2f} s ({count / elapsed:,.0f} windows/s)")
    print(
        f"peak traced allocations while iterating: {traced_peak / 1e6:.1f} MB = {traced_peak / x_bytes:.3f}x X "
        f"(X itself excluded), {(x_bytes + traced_peak) / x_bytes:.3f}x X including X"
    )
    print(f"RSS growth while iterating: {rss_growth / 1e6:.1f} MB = {rss_growth / x_bytes:.3f}x X")
    print(f"vs the stacked copy: {stacked_bytes / max(traced_peak, 1):,.0f}x less memory")


if __name__ == "__main__":
    main()
