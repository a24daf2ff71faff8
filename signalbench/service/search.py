"""The runs query of ``GET /runs``: a filter (:mod:`~signalbench.service.query`), a sort by any metric, a cursor.

The cursor is a keyset (the sort value and the run's primary key of the last row returned), so a page never repeats
or skips a run when runs are added between requests. Runs without the sorted metric come last in either direction.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.engine import Connection

from signalbench.service import db
from signalbench.service.query import QueryError, parse

SUMMARY = ("id", "name", "status", "data", "data_kind", "code_version", "config_hash", "submitted_by", "created_at")


def _sort_key(sort: str):
    """(expression, descending, join) of ``created``, ``name``, ``status``, ``metric.<name>[@<column>]``."""
    desc = sort.startswith("-")
    field = sort[1:] if desc else sort
    if field in ("created", "id", "name", "status", "data_kind"):
        return db.runs.c["created_at" if field == "created" else field], desc, None
    if field.startswith("metric.") and len(field) > 7:
        name, _, column = field[7:].partition("@")
        m = db.run_metrics.alias("sort_metric")
        on = and_(m.c.run_pk == db.runs.c.pk, m.c.name == name, m.c.column == (column or "*"))
        return m.c.value, desc, (m, on)
    what = "created, id, name, status, data_kind or metric.<name>[@<column>] (- first: descending)"
    raise QueryError(f"sort: expected {what}, got {sort!r}")


def encode_cursor(sort: str, row: dict[str, Any]) -> str:
    """The cursor after ``row`` (which holds ``_null``, ``_value``, ``_pk``)."""
    raw = json.dumps([sort, row["_null"], row["_value"], row["_pk"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[int, Any, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        was, null, value, pk = json.loads(text)
        assert isinstance(pk, int) and null in (0, 1)
    except Exception:
        raise QueryError(f"cursor: expected a cursor returned by this endpoint, got {cursor[:40]!r}") from None
    if was != sort:
        raise QueryError(f"cursor: expected a cursor of sort {sort!r}, got one of {was!r}; start again without cursor")
    return null, value, pk


def _after(null_expr, key, pk, desc: bool, cursor: tuple[int, Any, int]):
    null, value, last = cursor
    later_pk = pk < last if desc else pk > last
    if null:
        return and_(null_expr == 1, later_pk)
    later = key < value if desc else key > value
    return or_(null_expr == 1, and_(null_expr == 0, or_(later, and_(key == value, later_pk))))


def search_runs(
    conn: Connection, *, q: str = "", sort: str = "-created", limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of runs matching ``q`` in the order of ``sort``, and the cursor of the next page (None at the end)."""
    key, desc, join = _sort_key(sort)
    null_expr = case((key.is_(None), 1), else_=0)
    runs = db.runs
    source = runs.outerjoin(join[0], join[1]) if join else runs
    cols = [runs.c[c] for c in SUMMARY] + [null_expr.label("_null"), key.label("_value"), runs.c.pk.label("_pk")]
    stmt = select(*cols).select_from(source)
    cond = parse(q)
    if cond is not None:
        stmt = stmt.where(cond)
    if cursor:
        stmt = stmt.where(_after(null_expr, key, runs.c.pk, desc, _decode(cursor, sort)))
    order = (key.desc(), runs.c.pk.desc()) if desc else (key.asc(), runs.c.pk.asc())
    stmt = stmt.order_by(null_expr.asc(), *order).limit(limit + 1)
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(sort, rows[-1]) if more and rows else None
    return rows, next_cursor


def best_metrics(conn: Connection, pks: list[int], names: list[str]) -> dict[int, dict[str, float | None]]:
    """Per run, the best value of each metric in ``names`` over its model columns."""
    if not pks or not names:
        return {}
    m = db.run_metrics
    stmt = select(m.c.run_pk, m.c.name, m.c.value).where(m.c.run_pk.in_(pks), m.c.column == "*", m.c.name.in_(names))
    out: dict[int, dict[str, float | None]] = {pk: {} for pk in pks}
    for pk, name, value in conn.execute(stmt):
        out[pk][name] = value
    return out
