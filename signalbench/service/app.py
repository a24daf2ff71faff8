"""The FastAPI application: routes under ``/api/v1``, errors as problem+json, a body limit, request metrics.

CORS is closed (no cross-origin headers are ever sent); the server binds to 127.0.0.1 unless told otherwise
(:mod:`signalbench.service.commands`).
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from signalbench import __version__
from signalbench.service.limits import BodyLimit, RequestMetrics
from signalbench.service.state import Problem, Service

PROBLEM = "application/problem+json"


def _problem(status: int, detail: str, errors: list | None = None, headers=None) -> JSONResponse:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


def _location(loc) -> str:
    head, *rest = [str(p) for p in loc] or ["body"]
    return ".".join([head, *rest]) if rest else head


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    errors = getattr(exc, "errors", None)
    return _problem(exc.status_code, str(exc.detail), errors, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"location": _location(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors)
    return _problem(422, detail, errors)


def create_app(svc: Service) -> FastAPI:
    """The application serving ``svc`` (its job runner, if any, starts and stops with the server)."""
    from signalbench.service import page, routes_jobs, routes_market, routes_models, routes_runs, routes_stream

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if svc.runner is not None:
            svc.runner.start()
        try:
            yield
        finally:
            if svc.runner is not None:
                svc.runner.stop()

    app = FastAPI(
        title="signalbench service",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = svc
    metrics = RequestMetrics()
    app.state.request_metrics = metrics
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for module in (routes_runs, routes_jobs, routes_models, routes_market, routes_stream):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(page.router)
    app.add_middleware(RequestMetrics.Middleware, metrics=metrics)
    app.add_middleware(BodyLimit, limit=svc.max_body)
    return app


__all__ = ["PROBLEM", "Problem", "create_app"]
