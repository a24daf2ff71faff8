"""The OpenAPI document of the API, generated from the routes and checked in as ``openapi.json`` beside this file.

``python -m signalbench.service.openapi`` rewrites it (atomically); a test fails when the routes and the checked-in
file drift apart.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from signalbench._atomic import write_text

CHECKED_IN = Path(__file__).with_name("openapi.json")


def document() -> str:
    """The OpenAPI JSON of the routes, as text (sorted keys, stable across runs)."""
    from sqlalchemy import create_engine

    from signalbench.service.app import create_app
    from signalbench.service.state import Service

    app = create_app(Service(engine=create_engine("sqlite://"), url="sqlite://", runs_dir=Path("runs")))
    return json.dumps(app.openapi(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover
    write_text(CHECKED_IN, document())
    print(f"wrote {CHECKED_IN}", file=sys.stderr)
