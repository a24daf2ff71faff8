"""Time of the demo's report: report.html alone, the tear sheets, and one tear sheet against quantstats' own.

Usage: ``python benchmarks/report.py [RUN_DIR] [--skip-million]`` (default: runs the bundled demo into a temporary
folder first).
Prints wall and CPU seconds of ``build_report`` with and without the tear sheets (the goal: the whole report of the
demo in at most 20 s on 2 cores), and one column's tear sheet against ``quantstats.reports.html`` on the same
clock returns (the peer; its output is discarded), then a 1,000,000-row 1-minute tear sheet's time and size.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from signalbench import backtest
from signalbench.reports.clock import clock_returns
from signalbench.reports.html import build_report
from signalbench.reports.tearsheets import build_tearsheets, load_quantstats, render_tearsheet, tearsheet


def _timed(fn) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _demo(root: Path) -> Path:
    from importlib import resources

    from signalbench.experiment import compare

    with resources.as_file(resources.files("signalbench.experiment") / "demo.toml") as path:
        compare(path, out=root / "demo", report=False)
    return root / "demo"


def _peer(run_dir: Path) -> None:
    qs = load_quantstats()
    returns = pd.read_parquet(run_dir / "returns.parquet").set_index("timestamp")
    cols = [c for c in returns.columns if ":" in c and not c.startswith("gross:")]
    frame = returns[[cols[0], "buy_and_hold"]]
    cr = clock_returns(frame)
    ours = _timed(lambda: render_tearsheet(frame, cols[0], "buy_and_hold"))
    noise = io.StringIO()
    handler = logging.StreamHandler(noise)  # matplotlib's findfont messages go to logging's last-resort handler
    logging.getLogger("matplotlib").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(noise):
            warnings.simplefilter("always")
            out = Path(tempfile.mkdtemp()) / "qs.html"
            kw = {"periods_per_year": cr.periods_per_year, "output": str(out)}
            peer = _timed(lambda: qs.reports.html(cr.returns[cols[0]], cr.returns["buy_and_hold"], **kw))
    finally:
        logging.getLogger("matplotlib").removeHandler(handler)
    lines = len(noise.getvalue().splitlines())
    print(
        f"one tear sheet ({cols[0]}): {ours[0]:.2f} s, silent; quantstats.reports.html on the same clock returns: "
        f"{peer[0]:.2f} s, {lines} lines printed or logged and {len(caught)} warnings"
    )


def _million() -> None:
    days = pd.bdate_range("2015-01-05", periods=2600)
    idx = pd.DatetimeIndex(
        np.concatenate([pd.date_range(f"{d.date()} 09:30", f"{d.date()} 16:00", freq="min").values for d in days])
    )
    price = pd.Series(100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 3e-4, len(idx)))), idx)
    pos = pd.DataFrame({"m": np.sign(price.diff().fillna(0).to_numpy()), "buy_and_hold": 1.0}, index=idx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = backtest(price, pos, fee_bps=0.1, benchmarks=["buy_and_hold"])
    path = Path(tempfile.mkdtemp()) / "m.html"
    wall, _ = _timed(lambda: tearsheet(res, path, "m"))
    print(f"tear sheet of {len(idx):,} 1-minute bars: {wall:.1f} s, {path.stat().st_size / 1e6:.2f} MB")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run folder (default: the demo, run first)")
    parser.add_argument("--skip-million", action="store_true", help="skip the 1,000,000-bar tear sheet")
    return parser.parse_args()


def main() -> None:
    """Run the measurements and print them."""
    args = _args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir if args.run_dir is not None else _demo(Path(tmp))
        load_quantstats()  # its import (about 1.5 s) is part of the tear sheets' first call below
        html = _timed(lambda: build_report(run_dir, tearsheets=False))
        sheets = _timed(lambda: build_tearsheets(run_dir))
        both = _timed(lambda: build_report(run_dir))
        print(f"report.html alone: {html[0]:.2f} s wall, {html[1]:.2f} s CPU")
        print(f"tear sheets ({len(list((run_dir / 'tearsheets').glob('*.html')))}): {sheets[0]:.2f} s wall")
        print(f"report.html + tear sheets: {both[0]:.2f} s wall, {both[1]:.2f} s CPU (goal: <= 20 s on 2 cores)")
        _peer(run_dir)
    if not args.skip_million:
        _million()


if __name__ == "__main__":
    main()
