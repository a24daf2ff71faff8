"""One job of the service, in its own process: ``python -m signalbench.service.worker CONFIG.json RUN_DIR``.

Runs the experiment exactly as ``signalbench run`` does (:func:`signalbench.experiment.compare`), writing its run
folder atomically; exit status 0 when the folder is there, 2 with a one-line reason on standard error otherwise.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the experiment of ``argv[0]`` (JSON: the config and its base folder) into the run folder ``argv[1]``."""
    from signalbench.experiment import compare
    from signalbench.experiment.config import parse_experiment

    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        experiment = parse_experiment(spec["config"], source="job config", base_dir=spec["base_dir"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the run's warnings are in its metrics.json notes
            compare(experiment, out=argv[1], progress=False)
    except (ValueError, TypeError, OSError) as exc:
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
