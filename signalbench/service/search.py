"""The runs query of ``GET /runs``: a filter (:mod:`~signalbench.service.query`), a sort by any metric, a cursor.

The cursor is a keyset (the sort value and the run's primary key of the last row returned), so a page never repeats
or skips a run when runs are added between requests. Runs without the sorted metric come last in either direction.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import and_, literal, null, or_, select
from sqlalchemy.engine import Connection

from signalbench.service import db
from signalbench.service.query import QueryError, parse

SUMMARY = ("id", "name", "status", "data", "data_kind", "code_version", "config_hash", "submitted_by", "created_at")


def _sort_key(sort: str):
    """(field column or None, (metric name, column) or None, descending) of a sort spec."""
    desc = sort.startswith("-")
    field = sort[1:] if desc else sort
    if field in ("created", "id", "name", "status", "data_kind"):
        return db.runs.c["created_at" if field == "created" else field], None, desc
    if field.startswith("metric.") and len(field) > 7:
        name, _, column = field[7:].partition("@")
        return None, (name, column or "*"), desc
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


def _page(stmt, key, pk, desc: bool, after: tuple[Any, int] | None, limit: int):
    """``stmt`` in the order (key, pk), after the keyset ``after``, ``limit`` rows."""
    if after is not None:
        value, last = after
        later, later_pk = (key < value, pk < last) if desc else (key > value, pk > last)
        stmt = stmt.where(or_(later, and_(key == value, later_pk)))
    order = (key.desc(), pk.desc()) if desc else (key.asc(), pk.asc())
    return stmt.order_by(*order).limit(limit)


def search_runs(
    conn: Connection, *, q: str = "", sort: str = "-created", limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of runs matching ``q`` in the order of ``sort``, and the cursor of the next page (None at the end).

    A metric sort reads the metric's index in order (the runs with the value first, then, by id, those without), so
    a page costs about ``limit`` index steps however many runs there are.
    """
    field, metric, desc = _sort_key(sort)
    runs, cond = db.runs, parse(q)
    after = _decode(cursor, sort) if cursor else None
    cols = [runs.c[c] for c in SUMMARY]
    rows: list[dict[str, Any]] = []
    if field is not None:
        stmt = select(*cols, literal(0).label("_null"), field.label("_value"), runs.c.pk.label("_pk"))
        stmt = stmt if cond is None else stmt.where(cond)
        stmt = _page(stmt, field, runs.c.pk, desc, after and after[1:], limit + 1)
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    else:
        m = db.run_metrics.alias("sort_metric")  # apart from a filter's own reads of run_metrics
        has = and_(m.c.run_pk == runs.c.pk, m.c.name == metric[0], m.c.column == metric[1], m.c.value.is_not(None))
        if after is None or not after[0]:
            stmt = select(*cols, literal(0).label("_null"), m.c.value.label("_value"), m.c.run_pk.label("_pk"))
            stmt = stmt.select_from(runs.join(m, has))
            stmt = stmt if cond is None else stmt.where(cond)
            stmt = _page(stmt, m.c.value, m.c.run_pk, desc, after and after[1:], limit + 1)
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        if len(rows) <= limit:  # then the runs without the metric, by id
            stmt = select(*cols, literal(1).label("_null"), null().label("_value"), runs.c.pk.label("_pk"))
            valued = select(m.c.run_pk).where(m.c.name == metric[0], m.c.column == metric[1], m.c.value.is_not(None))
            stmt = stmt.where(runs.c.pk.not_in(valued.correlate(None)))
            stmt = stmt if cond is None else stmt.where(cond)
            last = after[2] if after and after[0] else None
            if last is not None:
                stmt = stmt.where(runs.c.pk < last if desc else runs.c.pk > last)
            order = runs.c.pk.desc() if desc else runs.c.pk.asc()
            rows += [dict(r._mapping) for r in conn.execute(stmt.order_by(order).limit(limit + 1 - len(rows)))]
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
