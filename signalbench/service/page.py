"""The web page: ``/`` lists runs (sorted by any metric, filtered), ``/compare`` puts selected runs side by side.

Server-rendered HTML (Jinja2 templates in ``templates/``), no script and no external asset; a run's id opens its
report. The page reads with the same ``read`` scope as the API (or without a key when reads are open).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from signalbench.service import runs_view
from signalbench.service.query import QueryError
from signalbench.service.search import best_metrics, search_runs
from signalbench.service.state import Problem, Service, require, service

router = APIRouter(include_in_schema=False)
Svc = Annotated[Service, Depends(service)]
Reader = Annotated[str, Depends(require("read"))]
METRICS = ("sharpe", "total_return_additive", "signal_efficiency", "max_drawdown", "accuracy")
_ENV = jinja2.Environment(loader=jinja2.PackageLoader("signalbench.service", "templates"), autoescape=True)


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon (a browser asks for one on every page, the reports' included)."""
    return Response(status_code=204)


@router.get("/", response_class=HTMLResponse)
def runs_page(svc: Svc, _: Reader, q: str = "", sort: str = "-created", cursor: str | None = None) -> str:
    """The runs table."""
    error = ""
    try:
        with svc.engine.connect() as conn:
            rows, nxt = search_runs(conn, q=q, sort=sort, limit=100, cursor=cursor)
            best = best_metrics(conn, [r["_pk"] for r in rows], list(METRICS))
    except QueryError as exc:
        rows, nxt, best, error = [], None, {}, str(exc)
    runs = [
        {
            **r,
            "metrics": best.get(r["_pk"], {}),
            "created": dt.datetime.fromtimestamp(r["created_at"], dt.UTC).strftime("%Y-%m-%d %H:%M"),
        }
        for r in rows
    ]
    headers = [
        ("id", "run"),
        ("name", "experiment"),
        ("status", "status"),
        ("data_kind", "data"),
        ("created", "created"),
    ] + [(f"metric.{m}", m) for m in METRICS]

    def sort_url(key: str) -> str:
        new = f"-{key}" if sort == key else key
        return "/?" + urlencode({"q": q, "sort": new})

    next_url = "/?" + urlencode({"q": q, "sort": sort, "cursor": nxt}) if nxt else ""
    return _ENV.get_template("runs.html.j2").render(
        title="runs",
        runs=runs,
        q=q,
        sort=sort,
        error=error,
        headers=headers,
        metric_names=METRICS,
        sort_url=sort_url,
        fmt=_fmt,
        next_url=next_url,
    )


@router.get("/compare", response_class=HTMLResponse)
def compare_page(svc: Svc, _: Reader, ids: Annotated[list[str], Query(max_length=50)] = ()) -> str:
    """Selected runs side by side: the params that differ, every column's metrics, the training histories."""
    if not ids:
        raise Problem(422, "ids: expected at least one run id to compare, got none; tick runs on the runs page")
    configs, values, history, benchmarks = {}, {}, [], set()
    for run_id in ids:
        with svc.engine.connect() as conn:
            row = runs_view.run_row(conn, run_id)
            if row is None:
                raise Problem(404, f"ids: expected runs in the database, got {run_id!r}")
            configs[run_id] = row.config
            columns, marked = runs_view.column_metrics(conn, row.pk)
            for column, metrics in sorted(columns.items()):
                values[(run_id, column)] = metrics
            benchmarks |= {(run_id, c) for c in marked}
        for model, steps in runs_view.histories(svc.runs_dir / run_id).items():
            for name, s in steps.items() if isinstance(steps, dict) else []:
                history.append((run_id, model, name, s))
    names = sorted({n for m in values.values() for n in m})
    models = [v for c, v in values.items() if c not in benchmarks]  # an oracle is a yardstick, never "the best"
    best = {n: max((v[n] for v in models if v.get(n) is not None), default=None) for n in names}
    return _ENV.get_template("compare.html.j2").render(
        title=f"compare {len(ids)} runs",
        runs=list(ids),
        params=runs_view.differing_params(configs),
        columns=list(values),
        benchmarks=benchmarks,
        values=values,
        metric_names=names,
        best=best,
        history=history,
        fmt=_fmt,
    )
