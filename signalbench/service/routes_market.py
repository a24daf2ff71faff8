"""``/api/v1/market-data``: the stored datasets' symbols and days, and one symbol's bars or features, paged.

See :mod:`signalbench.service.datasets` (what is served) and :mod:`signalbench.service.market` (pages, cursor,
caches). JSON by default; an Arrow IPC stream with ``Accept: application/vnd.apache.arrow.stream`` (the next cursor
in the ``X-Next-Cursor`` header and the schema's ``next_cursor`` metadata).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from signalbench.service import market
from signalbench.service.datasets import catalog
from signalbench.service.predict import ARROW
from signalbench.service.state import Problem, Service, require, service

router = APIRouter()
Svc = Annotated[Service, Depends(service)]
SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def _tables(svc: Service) -> market.PieceTables:
    return svc.extras.setdefault("market", market.PieceTables())


def _unprocessable(exc: ValueError) -> Problem:
    name = str(exc).split(":", 1)[0]
    return Problem(422, str(exc), [{"location": f"query.{name}", "message": str(exc)}])


@router.get("/market-data")
def list_market_data(svc: Svc, _: Annotated[str, Depends(require("read"))]) -> dict[str, Any]:
    """Every symbol of the stored datasets with its days, and the sources refused (with why)."""
    found = catalog(svc.engine, svc.runs_dir, svc.data_dirs)
    return {
        "symbols": {s: sorted(days) for s, days in sorted(found.pieces.items())},
        "refused": [{"source": where, "reason": why} for where, why in found.refused],
    }


def _pieces(svc: Service, symbol: str, day: str | None) -> list:
    if not SYMBOL.fullmatch(symbol):
        raise _unprocessable(ValueError(f"symbol: expected a symbol (letters, digits, '.', '_', '-'), got {symbol!r}"))
    if day is not None:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise _unprocessable(ValueError(f"day: expected a date YYYY-MM-DD, got {day!r}")) from None
    days = catalog(svc.engine, svc.runs_dir, svc.data_dirs).pieces.get(symbol)
    if not days:
        raise Problem(404, f"symbol: expected a symbol of a stored dataset (GET /api/v1/market-data), got {symbol!r}")
    if day is not None and day not in days:
        raise Problem(404, f"day: expected a day of {symbol} ({', '.join(sorted(days))}), got {day!r}")
    return [days[d] for d in sorted(days) if day is None or d == day]


@router.get("/market-data/{symbol}", responses={200: {"content": {ARROW: {}}}})
def market_data(
    symbol: str,
    request: Request,
    svc: Svc,
    _: Annotated[str, Depends(require("read"))],
    day: Annotated[str | None, Query(description="one day YYYY-MM-DD (default: every day)")] = None,
    start: Annotated[str | None, Query(description="ISO timestamp, inclusive")] = None,
    end: Annotated[str | None, Query(description="ISO timestamp, exclusive")] = None,
    kind: Annotated[Literal["bars", "features"], Query(description="the loaded rows, or causal features")] = "bars",
    features: Annotated[str | None, Query(description="feature sets, comma-separated (kind=features)")] = None,
    limit: Annotated[int, Query(ge=1, le=market.MAX_LIMIT)] = market.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="the next_cursor of the previous page")] = None,
) -> Any:
    """A symbol's bars or features over [start, end), at most ``limit`` rows a page, in (day, row) order."""
    try:
        t0, t1 = market.parse_time(start, "start"), market.parse_time(end, "end")
        if t0 is not None and t1 is not None and (t0.tz is None) == (t1.tz is None) and t1 <= t0:
            raise ValueError(f"end: expected a time after start ({start}), got {end!r}")
        sets = market.feature_sets(features, kind)
        after = None if cursor is None else market.parse_cursor(cursor)
    except ValueError as exc:
        raise _unprocessable(exc) from None
    pieces = _pieces(svc, symbol, day)
    tables = _tables(svc)
    try:
        got = market.page(pieces, lambda p: tables.table(p, sets), start=t0, end=t1, cursor=after, limit=limit)
    except (OSError, ValueError) as exc:
        if str(exc).split(":", 1)[0] in ("start", "end"):
            raise _unprocessable(exc) from None
        raise Problem(500, f"symbol: the dataset of {symbol} could not be read: {exc}") from None
    if ARROW in request.headers.get("accept", ""):
        return _arrow(got)
    columns, rows = market.as_json(got.frame)
    body = {"symbol": symbol, "kind": kind, "columns": columns, "rows": rows, "next_cursor": got.next_cursor}
    return JSONResponse(body)  # plain values already: no per-value encoding pass


def _arrow(got: market.Page) -> Response:
    import pyarrow as pa

    table = pa.Table.from_pandas(got.frame, preserve_index=False)
    table = table.replace_schema_metadata({"next_cursor": got.next_cursor or ""})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    headers = {"X-Next-Cursor": got.next_cursor} if got.next_cursor else {}
    return Response(sink.getvalue().to_pybytes(), media_type=ARROW, headers=headers)
