"""The executor of ``executor="local"`` with several workers: a pool of fresh (spawned) processes on this machine.

- Processes are spawned (never forked: no copy of the caller's threads, locks or CUDA state) with one thread each for
  Numba, torch and OpenMP (:data:`~signalbench.compute.worker.THREAD_VARIABLES`, set again in the worker).
- Before the pool starts, the modules of the task functions are imported here and their ``warm_up()`` called, so the
  Numba cache is written once; each worker then loads it (and calls ``warm_up`` once, cheaply).
- At most ``workers`` tasks are handed out at a time, so "running" is what runs, and ``fail_fast`` starts nothing
  after a failure.
- A worker that dies (killed, out of memory) breaks the pool, and every task then running is a suspect: each runs
  again alone in a one-process pool; one that breaks that pool too is failed with the reason, the others are kept.
  Then a new pool goes on with the rest.
- With a progress display (or an ``on_event`` sink) the workers put their tasks' progress events (the epochs of a
  fit) on a queue (one per pool) that this process empties while it waits (:mod:`signalbench.compute.events`).
- Ctrl-C (or any error here) kills the workers at once; results are stored only when complete, so the store holds
  every finished task and no partial one, and a later run computes only what is missing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from signalbench.compute.events import drain
from signalbench.compute.record import Recorder
from signalbench.compute.worker import execute, init_worker, task_spec, thread_variables, warm_up_here

__all__ = ["run_pool"]

_POLL = 0.2  # seconds between looks at the progress events while tasks run (only when someone listens)
_BROKEN = "BrokenProcessPool: a worker process died while running this task (killed, or out of memory)"


def run_pool(recorder: Recorder, root: str, workers: int) -> None:
    """Run the graph of ``recorder`` on ``workers`` spawned processes."""
    graph = recorder.graph
    warm_up_here(graph.tasks[k].fn for k in graph.waiting)
    with thread_variables():  # every worker, spawned now or later, inherits them
        while not recorder.stopped:
            suspects = _run_one_pool(recorder, root, workers)
            if not suspects:
                break
            for key in suspects:
                if not recorder.stopped:
                    _run_alone(recorder, root, key)


def _events(recorder: Recorder) -> Any:
    """A new queue for one pool's workers to put their tasks' progress events on; None when nobody listens.

    One per pool: a worker killed while writing to it may leave its lock taken, and its pool (broken, its workers
    ended) is then the only one that used it.
    """
    return multiprocessing.get_context("spawn").Queue() if recorder.listening else None


def _hand_on(queue: Any, recorder: Recorder, pool: ProcessPoolExecutor) -> None:
    """Shut the pool down; the events left in its queue (before: none blocks a worker's exit; after) to the recorder."""
    if queue is not None:
        drain(queue, recorder.event)
    pool.shutdown(wait=True, cancel_futures=True)
    if queue is not None:
        drain(queue, recorder.event)
        queue.close()


def _run_one_pool(recorder: Recorder, root: str, workers: int) -> list[str]:
    """Run until the graph is done ([]) or the pool breaks (the keys then running)."""
    graph = recorder.graph
    in_flight: dict[Future, str] = {}
    queue = _events(recorder)
    pool = _start(workers, queue)
    try:
        while True:
            if not recorder.stopped:
                for key in graph.take_ready(workers - len(in_flight)):
                    in_flight[pool.submit(execute, task_spec(graph.tasks[key]), root)] = key
                    recorder.started(key)
            if not in_flight:
                return []
            done, _ = wait(in_flight, timeout=None if queue is None else _POLL, return_when=FIRST_COMPLETED)
            if queue is not None:
                drain(queue, recorder.event)
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                return list(in_flight.values())
            for future in done:
                recorder.record(_status(future, in_flight.pop(future)))
    except BaseException:
        _kill(pool)
        raise
    finally:
        _hand_on(queue, recorder, pool)


def _status(future: Future, key: str) -> dict:
    exc = future.exception()
    if exc is None:
        return future.result()
    # execute() returns failures; an exception here is the pool's (a result that cannot be sent back)
    return {"key": key, "status": "failed", "error": f"{type(exc).__name__}: {exc}", "traceback": ""}


def _run_alone(recorder: Recorder, root: str, key: str) -> None:
    """Run a suspect of a broken pool alone: it fails if it breaks this pool too."""
    queue = _events(recorder)
    pool = _start(1, queue)
    try:
        future = pool.submit(execute, task_spec(recorder.graph.tasks[key]), root)
        wait([future])
        if isinstance(future.exception(), BrokenProcessPool):
            recorder.record({"key": key, "status": "failed", "error": _BROKEN, "traceback": ""})
        else:
            recorder.record(_status(future, key))
    except BaseException:
        _kill(pool)
        raise
    finally:
        _hand_on(queue, recorder, pool)


def _start(workers: int, queue: Any) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(queue,))


def _kill(pool: ProcessPoolExecutor) -> None:
    """End the workers now (Ctrl-C): a task cut short stores nothing."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()
