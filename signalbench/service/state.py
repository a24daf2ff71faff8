"""What every request of the service needs: the database, the runs folder, the settings, and their checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.engine import Engine

from signalbench.service import keys

#: The largest request body accepted by default (an Arrow batch of predictions is the large one).
MAX_BODY = 16 * 1024 * 1024


@dataclass
class Service:
    """The service's settings and shared objects (one per application)."""

    engine: Engine
    url: str
    runs_dir: Path
    open_reads: bool = False
    max_body: int = MAX_BODY
    data_dirs: list[Path] = field(default_factory=list)  # ``--data`` folders served by /market-data
    runner: Any = None  # the job runner (signalbench.service.jobs.JobRunner), started with the server
    extras: dict[str, Any] = field(default_factory=dict)


class Problem(HTTPException):
    """An error answered as ``application/problem+json``; ``errors`` lists ``{"location", "message"}`` entries."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None, headers=None) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.errors = errors or []


def service(request: Request) -> Service:
    """The service of the application that received ``request``."""
    return request.app.state.service


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def require(scope: str) -> Callable[[Request], str]:
    """A dependency that lets the request through when its key has ``scope`` (reads may be opened); returns who."""

    def check(request: Request) -> str:
        svc = service(request)
        token = _token(request)
        if token is None and scope == "read" and svc.open_reads:
            return ""
        if token is None:
            raise Problem(
                401,
                "authorization: expected an API key (Authorization: Bearer sbk_...), got none",
                headers={"WWW-Authenticate": "Bearer"},
            )
        found = keys.identify(svc.engine, token)
        if found is None:
            raise Problem(
                401,
                "authorization: expected a valid API key, got an unknown or revoked one",
                headers={"WWW-Authenticate": "Bearer"},
            )
        name, scopes = found
        if scope not in scopes:
            raise Problem(403, f"authorization: expected a key with scope {scope!r}, got one with {sorted(scopes)}")
        return name

    return check
