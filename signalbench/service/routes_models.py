"""``/api/v1/models``: the saved models of the imported runs, and ``POST /models/{name}/predict``."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import insert, select

from signalbench.service import db
from signalbench.service.predict import (
    ARROW,
    ModelCache,
    SchemaMismatch,
    as_json,
    predict,
    rows_from_arrow,
    rows_from_json,
)
from signalbench.service.state import Problem, Service, require, service

router = APIRouter()
Svc = Annotated[Service, Depends(service)]


@router.get("/models")
def list_models(svc: Svc, _: Annotated[str, Depends(require("read"))]) -> list[dict[str, Any]]:
    """Every saved model (``<model>@<run id>``) with its feature schema."""
    with svc.engine.connect() as conn:
        rows = conn.execute(select(db.models.c.name, db.models.c.model, db.models.c.features)).all()
    return [{"name": r.name, "model": r.model, "features": r.features} for r in rows]


def _cache(svc: Service) -> ModelCache:
    return svc.extras.setdefault("models", ModelCache())


_ROWS = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["columns", "rows"],
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": {"type": "array", "items": {"type": ["number", "null"]}}},
                        "event_ids": {"type": "array", "items": {"type": "string"}},
                    },
                }
            },
            ARROW: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post("/models/{name}/predict", openapi_extra=_ROWS)
async def predict_rows(
    name: str,
    request: Request,
    svc: Svc,
    _: Annotated[str, Depends(require("read"))],
) -> dict[str, Any]:
    """Class probabilities of feature rows, equal to the model's ``predict_proba`` (422 naming wrong columns)."""
    from starlette.concurrency import run_in_threadpool

    data = await request.body()
    return await run_in_threadpool(_answer, svc, name, data, request.headers.get("content-type", ""))


def _answer(svc: Service, name: str, data: bytes, content_type: str) -> dict[str, Any]:
    with svc.engine.connect() as conn:
        path = conn.execute(select(db.models.c.path).where(db.models.c.name == name)).scalar()
    if path is None:
        raise Problem(404, f"name: expected a saved model '<model>@<run id>' (GET /api/v1/models), got {name!r}")
    event_ids = None
    try:
        if ARROW in content_type:
            columns, X = rows_from_arrow(data)
        else:
            body = json.loads(data or b"null")
            columns, X = rows_from_json(body)
            event_ids = body.get("event_ids")
        proba = predict(_cache(svc).get(svc.runs_dir / path), columns, X)
    except SchemaMismatch as exc:
        errors = [{"location": f"body.columns.{c}", "message": "missing"} for c in exc.missing]
        errors += [{"location": f"body.columns.{c}", "message": "unexpected"} for c in exc.unexpected]
        raise Problem(422, str(exc), errors) from None
    except ValueError as exc:
        raise Problem(422, str(exc), [{"location": "body", "message": str(exc)}]) from None
    out = as_json(proba)
    if isinstance(event_ids, list) and len(event_ids) == len(out):  # recorded only when the caller names events
        now = time.time()
        with svc.engine.begin() as conn:
            conn.execute(
                insert(db.predictions),
                [
                    {"event_id": str(e), "model": name, "probabilities": p, "created_at": now}
                    for e, p in zip(event_ids, out)
                ],
            )
    return {"model": name, "probabilities": out}
