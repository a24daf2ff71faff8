"""One job of the service, in its own process: ``python -m signalbench.service.worker SPEC.json RUN_DIR``.

Runs the experiment exactly as ``signalbench run`` does (:func:`signalbench.experiment.compare`) with the server's
``[compute]`` settings (the spec's ``compute``), or continues the run folder ``RUN_DIR`` (the spec's
``resume``: ``signalbench run --resume``). The graph a run builds is recorded in the spec's
``progress`` file (:func:`signalbench.service.jobfolder.record_graph`) before its tasks run. Exit status 0 when the
run folder is complete, 2 with a one-line reason on standard error otherwise.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path


def _record_graphs(progress: Path) -> None:
    """Record the graph of the run before it runs.

    ``compare`` offers no hook for this, so the one function every graph run goes through
    (``signalbench.compute.run_graph``) is wrapped in this process only.
    """
    import signalbench.compute as compute
    from signalbench.service.jobfolder import record_graph

    inner = compute.run_graph

    def run_graph(tasks, store, **options):
        record_graph(progress, store.root, [t.key for t in tasks])
        return inner(tasks, store, **options)

    compute.run_graph = run_graph


def main(argv: list[str]) -> int:
    """Run the job of spec ``argv[0]`` (JSON: config, base folder, compute, resume, progress) into ``argv[1]``."""
    from signalbench.experiment import compare
    from signalbench.experiment.config import parse_experiment
    from signalbench.experiment.multirun import read_run_config
    from signalbench.experiment.rungraph import TaskFailedError

    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    if spec.get("progress"):
        _record_graphs(Path(spec["progress"]))
    try:
        if spec.get("resume"):
            experiment = read_run_config(argv[1])
        else:
            experiment = parse_experiment(spec["config"], source="job config", base_dir=spec["base_dir"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the run's warnings are in its metrics.json notes
            resume = bool(spec.get("resume"))
            compare(experiment, out=argv[1], progress=False, compute=spec.get("compute"), resume=resume)
    except (ValueError, TypeError, OSError, TaskFailedError) as exc:
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
