"""The checked-in OpenAPI document is the one the routes generate."""

from __future__ import annotations

import json

from signalbench.service.openapi import CHECKED_IN, document


def test_checked_in_openapi_matches_the_routes():
    generated = document()
    assert CHECKED_IN.read_text(encoding="utf-8") == generated, (
        "signalbench/service/openapi.json is out of date: run `python -m signalbench.service.openapi`"
    )
    paths = json.loads(generated)["paths"]
    assert {
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/jobs/{job_id}",
        "/api/v1/models/{name}/predict",
        "/api/v1/compare",
        "/api/v1/health",
    } <= set(paths)
    assert "/" not in paths  # the page is not part of the API


def test_drift_is_caught(monkeypatch):
    from signalbench.service import routes_runs

    @routes_runs.router.get("/planted-route")
    def planted() -> dict:
        return {}

    try:
        assert CHECKED_IN.read_text(encoding="utf-8") != document()
    finally:
        routes_runs.router.routes.pop()
