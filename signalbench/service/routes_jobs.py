"""``/api/v1``: submit an experiment (``POST /runs``), follow it (``GET /jobs/{id}``), cancel it (``DELETE``)."""

from __future__ import annotations

import json
import tomllib
import warnings
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from signalbench.service import jobs
from signalbench.service.state import Problem, Service, require, service

router = APIRouter()
Svc = Annotated[Service, Depends(service)]

_CONFIG = {
    "requestBody": {
        "required": True,
        "description": "the experiment config as TOML (application/toml) or JSON (application/json)",
        "content": {
            "application/toml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def _parse(body: bytes, content_type: str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        raw = json.loads(text) if "json" in content_type else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        kind = "JSON" if "json" in content_type else "TOML"
        message = f"body: expected an experiment config as {kind}, got {type(exc).__name__}: {exc}"
        raise Problem(422, message, [{"location": "body", "message": message}]) from None
    if not isinstance(raw, dict):
        raise Problem(422, "body: expected a config table (a JSON object), got " + type(raw).__name__)
    return raw


def validate_config(raw: dict[str, Any], svc: Service) -> None:
    """Every check ``signalbench validate`` makes (the config, then its data); a 422 listing every problem."""
    from signalbench.experiment import validate
    from signalbench.experiment.config import ConfigError, parse_experiment

    try:
        experiment = parse_experiment(raw, source="request body", base_dir=svc.runs_dir.parent)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate(experiment)
    except ConfigError as exc:
        errors = [{"location": loc or "body", "message": msg} for loc, msg in exc.problems]
        raise Problem(422, str(exc), errors) from None
    except (ValueError, TypeError, OSError) as exc:  # data that cannot be loaded: the message names the file
        raise Problem(422, str(exc), [{"location": "data", "message": str(exc)}]) from None


_ANSWERS = {202: {"description": "the job id"}, 422: {"description": "the config's problems, each with its location"}}


@router.post("/runs", status_code=202, responses=_ANSWERS, openapi_extra=_CONFIG)
async def submit_run(
    request: Request,
    svc: Svc,
    who: Annotated[str, Depends(require("write"))],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Validate an experiment config exactly as ``signalbench validate``, then queue it as a job (202)."""
    from starlette.concurrency import run_in_threadpool

    raw = _parse(await request.body(), request.headers.get("content-type", ""))
    await run_in_threadpool(validate_config, raw, svc)
    job_id, created = await run_in_threadpool(jobs.submit, svc.engine, raw, who=who, idempotency_key=idempotency_key)
    body = {"job": job_id, "created": created, "url": f"/api/v1/jobs/{job_id}"}
    return JSONResponse(body, status_code=202, headers={"Location": body["url"]})


def _job(svc: Service, job_id: str) -> dict[str, Any]:
    job = jobs.get_job(svc.engine, job_id)
    if job is None:
        raise Problem(404, f"job_id: expected a submitted job, got {job_id!r}")
    return job


@router.get("/jobs/{job_id}")
def get_job(job_id: str, svc: Svc, _: Annotated[str, Depends(require("read"))]) -> dict[str, Any]:
    """A job's state, progress, error, attempts and (once done) its run."""
    return _job(svc, job_id)


@router.delete("/jobs/{job_id}")
def cancel_job(job_id: str, svc: Svc, _: Annotated[str, Depends(require("write"))]) -> dict[str, Any]:
    """Cancel a queued or running job (409 when it has finished)."""
    job = _job(svc, job_id)
    done = svc.runner.cancel(job_id) if svc.runner is not None else jobs.cancel_queued(svc.engine, job_id)
    if not done:
        raise Problem(409, f"job_id: expected a queued or running job, got one that is {job['state']}")
    return _job(svc, job_id)
