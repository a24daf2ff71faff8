"""``/api/v1``: health, readiness, metrics, and the runs (search, detail, metrics, report, artifacts, compare)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from signalbench.service import db, migrate, runs_view
from signalbench.service.paths import PathRefused, artifact, run_dir
from signalbench.service.query import QueryError
from signalbench.service.search import best_metrics, search_runs
from signalbench.service.state import Problem, Service, require, service

router = APIRouter()
Svc = Annotated[Service, Depends(service)]
Reader = Annotated[str, Depends(require("read"))]


@router.get("/health")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready")
def ready(svc: Svc) -> dict[str, str]:
    """The database answers and is at the newest schema; the runs folder is there."""
    try:
        migrate.check_schema(svc.engine, "the configured database")
    except Exception as exc:
        raise Problem(503, f"database: {exc}") from None
    if not svc.runs_dir.is_dir():
        raise Problem(503, f"runs: expected a folder, got none at {svc.runs_dir}")
    return {"status": "ready", "schema": migrate.head()}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, svc: Svc, _: Reader) -> str:
    """Request counts and latencies per route, jobs by state (Prometheus text)."""
    with svc.engine.connect() as conn:
        states = dict(conn.execute(select(db.jobs.c.state, func.count()).group_by(db.jobs.c.state)).all())
    return request.app.state.request_metrics.text(states)


class RunPage(BaseModel):
    """One page of runs and the cursor of the next (null at the end)."""

    runs: list[dict[str, Any]]
    next_cursor: str | None


@router.get("/runs", response_model=RunPage)
def list_runs(
    svc: Svc,
    _: Reader,
    q: Annotated[
        str, Query(max_length=2000, description="filter: `status = done and (model = lstm or metric.sharpe > 1)`")
    ] = "",
    sort: Annotated[
        str, Query(max_length=300, description="created, name, status, metric.<name>[@<column>]; - first: descending")
    ] = "-created",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    metrics: Annotated[
        str, Query(max_length=1000, description="comma-separated metrics to return (best over the model columns)")
    ] = "",
) -> RunPage:
    """Runs matching ``q``, sorted by ``sort``, ``limit`` at a time (``cursor`` from the previous page)."""
    try:
        with svc.engine.connect() as conn:
            rows, nxt = search_runs(conn, q=q, sort=sort, limit=limit, cursor=cursor)
            names = [n.strip() for n in metrics.split(",") if n.strip()]
            best = best_metrics(conn, [r["_pk"] for r in rows], names)
    except QueryError as exc:
        param = str(exc).split(":", 1)[0]
        raise Problem(422, str(exc), [{"location": f"query.{param}", "message": str(exc)}]) from None
    out = []
    for r in rows:
        item = {k: v for k, v in r.items() if not k.startswith("_")}
        item["sort_value"] = r["_value"]
        if names:
            item["metrics"] = best.get(r["_pk"], {})
        out.append(item)
    return RunPage(runs=out, next_cursor=nxt)


def _row(svc: Service, run_id: str):
    try:
        run_dir(svc.runs_dir, run_id)
    except PathRefused as exc:
        raise Problem(422, str(exc), [{"location": "path.run_id", "message": str(exc)}]) from None
    with svc.engine.connect() as conn:
        row = runs_view.run_row(conn, run_id)
    if row is None:
        raise Problem(
            404,
            f"run_id: expected a run in the database, got {run_id!r}; import it with `signalbench db import RUNS_DIR`",
        )
    return row


@router.get("/runs/{run_id}")
def get_run(run_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    """One run: its record, params, symbols and saved models."""
    row = _row(svc, run_id)
    with svc.engine.connect() as conn:
        return runs_view.run_detail(conn, row)


@router.get("/runs/{run_id}/metrics")
def get_metrics(run_id: str, svc: Svc, _: Reader) -> dict[str, Any]:
    """Summary metrics per column, and min/max/last of every metric a model logged per epoch."""
    row = _row(svc, run_id)
    with svc.engine.connect() as conn:
        columns, benchmarks = runs_view.column_metrics(conn, row.pk)
    try:
        steps = runs_view.histories(run_dir(svc.runs_dir, run_id))
    except ValueError as exc:  # a damaged history file: RunFolderError names it
        raise Problem(500, str(exc)) from None
    return {"columns": columns, "benchmarks": sorted(benchmarks), "history": steps}


def _file(svc: Service, run_id: str, path: str, media_type: str | None = None) -> FileResponse:
    _row(svc, run_id)
    try:
        target = artifact(svc.runs_dir, run_id, path)
    except PathRefused as exc:
        raise Problem(422, str(exc), [{"location": f"path.{exc.argument}", "message": str(exc)}]) from None
    if not target.is_file():
        raise Problem(404, f"path: expected a file of run {run_id}, got no file {path!r}")
    return FileResponse(target, media_type=media_type)


@router.get("/runs/{run_id}/report", response_class=FileResponse)
def get_report(run_id: str, svc: Svc, _: Reader) -> FileResponse:
    """The run's ``report.html``."""
    return _file(svc, run_id, "report.html", "text/html")


@router.get("/runs/{run_id}/artifacts/{path:path}", response_class=FileResponse)
def get_artifact(run_id: str, path: str, svc: Svc, _: Reader) -> FileResponse:
    """A file of the run folder (never one outside it: ``..``, absolute paths and symbolic links out are refused)."""
    return _file(svc, run_id, path)


class CompareRequest(BaseModel):
    """Runs to compare, optionally only some columns and metrics."""

    runs: list[str] = Field(min_length=1, max_length=50)
    columns: list[str] | None = None
    metrics: list[str] | None = None
    n_trials: int | None = Field(
        None,
        ge=1,
        description="the trials tried in all (default: the model columns "
        "compared); each model column's deflated Sharpe is over them",
    )


@router.post("/compare")
def compare(body: CompareRequest, svc: Svc, _: Reader) -> dict[str, Any]:
    """One aligned table (a row per run x column, a key per metric) and the params that differ between the runs.

    Each model column also gets ``deflated_sharpe_stated``: its deflated Sharpe over ``n_trials`` trials.
    """
    rows, configs = [], {}
    for run_id in body.runs:
        row = _row(svc, run_id)
        configs[run_id] = row.config
        with svc.engine.connect() as conn:
            columns, benchmarks = runs_view.column_metrics(conn, row.pk)
        for column, values in sorted(columns.items()):
            if body.columns is None or column in body.columns:
                keep = values if body.metrics is None else {m: values.get(m) for m in body.metrics}
                rows.append({"run": run_id, "column": column, "benchmark": column in benchmarks, **keep})
    names = sorted({k for r in rows for k in r} - {"run", "column", "benchmark"})
    table = [{k: r[k] for k in ("run", "column", "benchmark")} | {n: r.get(n) for n in names} for r in rows]
    trials = body.n_trials or max(1, sum(not r["benchmark"] for r in table))
    for run_id in body.runs:
        mine = [r for r in table if r["run"] == run_id and not r["benchmark"]]
        try:
            dsr = runs_view.stated_dsr(run_dir(svc.runs_dir, run_id), [r["column"] for r in mine], trials)
        except ValueError as exc:  # a damaged returns.parquet: RunFolderError names it
            raise Problem(500, str(exc)) from None
        for r in table:
            if r["run"] == run_id:
                r["deflated_sharpe_stated"] = dsr.get(r["column"])
    return {"metrics": names, "n_trials": trials, "table": table, "params": runs_view.differing_params(configs)}
