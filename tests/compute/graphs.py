"""Small task graphs of the compute tests (also built by the script that a test kills, so the keys agree)."""

from __future__ import annotations

from signalbench.compute import Task, task_key


def task(kind: str, fn: str, params: dict, deps: dict | None = None, tags: dict | None = None) -> Task:
    deps = deps or {}
    return Task(task_key(kind, fn, params, deps), kind, fn, params, deps, tags or {})


def diamond(markers: str, n_sources: int = 3, scale: float = 2.0, seed: int = 0) -> list[Task]:
    """Sources -> one combine per neighbouring pair -> one summary: 2n tasks, every result type stored."""
    sources = [
        task(
            "piece",
            "graphtasks:source",
            {"marker_dir": markers, "name": f"source{i}", "seed": seed + i},
            tags={"symbol": f"SYN{i}"},
        )
        for i in range(n_sources)
    ]
    combines = [
        task(
            "combine",
            "graphtasks:combine",
            {"marker_dir": markers, "name": f"combine{i}", "scale": scale},
            {"a": sources[i].key, "b": sources[i + 1].key},
            {"pair": f"{i}-{i + 1}"},
        )
        for i in range(n_sources - 1)
    ]
    summary = task(
        "assemble",
        "graphtasks:summarize",
        {"marker_dir": markers, "name": "summary"},
        {f"c{i}": c.key for i, c in enumerate(combines)},
    )
    return [*sources, *combines, summary]


def chain_of_sleeps(markers: str, n: int, seconds: float) -> list[Task]:
    """``n`` independent chains of two sleeping tasks each, and a sum of their ends."""
    tasks, ends = [], []
    for i in range(n):
        first = task(
            "first",
            "graphtasks:sleep_then",
            {"marker_dir": markers, "name": f"first{i}", "seconds": seconds, "value": i},
            tags={"i": str(i)},
        )
        second = task(
            "second",
            "graphtasks:sleep_then",
            {"marker_dir": markers, "name": f"second{i}", "seconds": seconds, "value": 10 * i},
            {"prev": first.key},
            {"i": str(i)},
        )
        tasks += [first, second]
        ends.append(second.key)
    tasks.append(
        task(
            "assemble",
            "graphtasks:sleep_then",
            {"marker_dir": markers, "name": "total", "seconds": 0.0, "value": 0},
            {f"e{i}": k for i, k in enumerate(ends)},
        )
    )
    return tasks
