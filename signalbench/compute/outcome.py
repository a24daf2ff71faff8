"""What a run of a task graph did: :class:`GraphRun`, and :class:`TaskFailure` for each task that failed."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["GraphRun", "TaskFailure"]


@dataclass
class TaskFailure:
    """A task that raised: its key, kind and tags (which piece, model, fold), the error and its traceback."""

    key: str
    kind: str
    tags: dict[str, str]
    error: str  # "ValueError: ..."
    traceback: str

    def __str__(self) -> str:
        tags = ", ".join(f"{k}={v}" for k, v in self.tags.items())
        return f"{self.kind} task {self.key}" + (f" ({tags})" if tags else "") + f" failed: {self.error}"


@dataclass
class GraphRun:
    """The keys of a graph by what happened to them; every task of the graph is in exactly one of the four."""

    computed: list[str] = field(default_factory=list)  # run now
    cached: list[str] = field(default_factory=list)  # found in the store, not run
    failed: dict[str, TaskFailure] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # a dependency failed, or fail_fast stopped the run

    def ok(self) -> bool:
        """True when no task failed or was skipped."""
        return not self.failed and not self.skipped
