"""Benchmark: load_lobster on LOBSTER's two sample files, against a bare pandas.read_csv of the same CSVs.

For each sample (AMZN level 1, 57,515 events; GOOG 5 levels, 112,673 events) it times, as the median of several
runs after one warm-up run:

- ``load_lobster(zip)``: the zip as distributed (includes decompression, parsing, validation, building the frame);
- ``load_lobster((message, orderbook))``: the two extracted CSVs;
- the floor: ``pandas.read_csv(engine="c", header=None)`` of the same two extracted CSVs, with no validation, no
  timestamps and no conversion; the ratio says what the loader's work costs on top of just reading the numbers.

Usage::

    python benchmarks/data_load.py [--repeat 7] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from signalbench.data.lobster import load_lobster

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {  # label: zip as distributed
    "AMZN/1": "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip",
    "GOOG/5": "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip",
}


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: imports, page cache, allocator
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement (median reported)")
    default = Path(os.environ.get("SIGNALBENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default, help="the shared data folder (holds lobster/)")
    args = parser.parse_args()
    folder = args.data / "lobster"
    if not folder.is_dir():
        raise SystemExit(f"LOBSTER samples not found in {folder} (pass --data or set SIGNALBENCH_SHARED_DATA)")

    print(f"load_lobster benchmark: median of {args.repeat} runs after a warm-up; {os.cpu_count()} CPU(s)")
    print("sample = ticker/levels; x floor = time / time of the bare read_csv")
    header = f"{'sample':<6} {'events':>8} {'what':<34} {'median ms':>10} {'events/s':>12} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for label, zname in SAMPLES.items():
            archive = folder / zname
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.namelist() if m.endswith(".csv")]
                zf.extractall(tmp, members)
            msg = next(Path(tmp) / m for m in members if "_message_" in m)
            book = next(Path(tmp) / m for m in members if "_orderbook_" in m)
            events = len(load_lobster(archive))

            def floor(msg: Path = msg, book: Path = book) -> None:
                pd.read_csv(msg, header=None, engine="c")
                pd.read_csv(book, header=None, engine="c")

            t_floor = median_seconds(floor, args.repeat)
            rows = [
                ("bare pandas.read_csv of both CSVs", t_floor),
                ("load_lobster(CSV pair)", median_seconds(lambda m=msg, b=book: load_lobster((m, b)), args.repeat)),
                ("load_lobster(zip as distributed)", median_seconds(lambda a=archive: load_lobster(a), args.repeat)),
            ]
            for what, seconds in rows:
                print(
                    f"{label:<6} {events:>8,} {what:<34} {seconds * 1e3:>10.1f} {events / seconds:>12,.0f} "
                    f"{seconds / t_floor:>8.2f}"
                )


if __name__ == "__main__":
    main()
