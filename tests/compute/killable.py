"""``python -m killable STORE MARKERS WORKERS N SECONDS``: run the chain_of_sleeps graph; a test kills it midway."""

from __future__ import annotations

import signal
import sys

from graphs import chain_of_sleeps

from signalbench.compute import TaskStore, run_graph

if __name__ == "__main__":
    # a Ctrl-C raises KeyboardInterrupt, as in a terminal, even when the test runner was started in the background
    # (a shell without job control starts background commands with SIGINT ignored, and Python then keeps it ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    store, markers, workers, n, seconds = sys.argv[1:6]
    run = run_graph(chain_of_sleeps(markers, int(n), float(seconds)), TaskStore(store), workers=int(workers))
    print("ok" if run.ok() else "failed", flush=True)
