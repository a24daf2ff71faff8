"""The filter language of ``GET /runs?q=...``: comparisons joined by ``and``, ``or``, ``not`` and parentheses.

``status = done and (model = lstm or metric.sharpe > 1.5) and param.labels.horizon >= 5``

Fields: ``status``, ``name``, ``data`` (the data description; ``~`` is "contains"), ``data_kind``, ``symbol``,
``model`` (a model of the config, or a saved one, by its registered name), ``param.<key>`` (the resolved config
flattened: ``labels.horizon``, ``models[0].seq_len``, ``models_resolved.lstm.hidden_size``) and ``metric.<name>``
(the run's best value over its model x strategy columns, benchmarks left out) or ``metric.<name>@<column>`` (one
column's: ``metric.sharpe@lstm:sign``).
Operators: ``= != < <= > >= ~``. Values: numbers, bare words, or quoted strings. ``and`` binds tighter than ``or``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from signalbench.service import db

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op><=|>=|!=|=|<|>|~)"
    r"|(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.:@]))"
    r"|(?P<word>[A-Za-z0-9_*][\w.\[\]:@*+-]*))"
)
_RUN_FIELDS = ("status", "name", "data", "data_kind")


class QueryError(ValueError):
    """A filter that cannot be read; the message says where (the character offset) and what was expected."""


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise QueryError(f"q: expected a field, an operator, a value or a parenthesis, got {text[pos:]!r} at {pos}")
        kind = m.lastgroup
        raw, start = m.group(kind), m.start(kind)
        value: Any = float(raw) if kind == "num" else raw[1:-1] if kind == "str" else raw
        if kind == "word" and raw.lower() in ("and", "or", "not"):
            kind, value = raw.lower(), raw.lower()
        out.append((kind, value, start))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.i = text, _tokens(text), 0

    def peek(self) -> tuple[str, Any, int]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", None, len(self.text))

    def take(self, kind: str, what: str) -> Any:
        got, value, pos = self.peek()
        if got != kind:
            found = "the end" if got == "end" else repr(value)
            raise QueryError(f"q: expected {what}, got {found} at {pos}")
        self.i += 1
        return value

    def expr(self) -> ColumnElement:
        parts = [self.term()]
        while self.peek()[0] == "or":
            self.i += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else or_(*parts)

    def term(self) -> ColumnElement:
        parts = [self.factor()]
        while self.peek()[0] == "and":
            self.i += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else and_(*parts)

    def factor(self) -> ColumnElement:
        kind = self.peek()[0]
        if kind == "not":
            self.i += 1
            return not_(self.factor())
        if kind == "lp":
            self.i += 1
            inner = self.expr()
            self.take("rp", "')'")
            return inner
        pos = self.peek()[2]
        field = self.take("word", "a field (status, model, symbol, param.<key>, metric.<name>, ...)")
        op = self.take("op", "an operator (= != < <= > >= ~)")
        kind, value, _ = self.peek()
        if kind not in ("num", "str", "word"):
            self.take("value", "a value")
        self.i += 1
        return comparison(field, op, value, pos)


def _compare(column: Any, op: str, value: Any) -> ColumnElement:
    if op == "~":
        return column.contains(str(value), autoescape=True)
    return {
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


def _text(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _runs_where(table, *conditions) -> ColumnElement:
    """``runs.pk IN (runs of the rows of table meeting conditions)``: one subquery on its index, not one per run."""
    return db.runs.c.pk.in_(select(table.c.run_pk).where(*conditions).correlate(None))


def _symbol(value: str) -> ColumnElement:
    return _runs_where(db.run_symbols, db.run_symbols.c.symbol == value)


def _model(value: str) -> ColumnElement:
    """A model of the config (``models[i].name``) or a saved one."""
    p, m = db.run_params, db.models
    return or_(_runs_where(p, p.c.key.like("models[%].name"), p.c.text == value), _runs_where(m, m.c.model == value))


def comparison(field: str, op: str, value: Any, pos: int = 0) -> ColumnElement:
    """The SQL condition on ``runs`` of one comparison."""
    runs = db.runs
    if field in _RUN_FIELDS:
        return _compare(runs.c[field], op, _text(value))
    if field in ("symbol", "model"):
        if op not in ("=", "!="):
            raise QueryError(f"q: expected = or != after {field}, got {op!r} at {pos}")
        found = _symbol(_text(value)) if field == "symbol" else _model(_text(value))
        return found if op == "=" else not_(found)
    if field.startswith("param.") and len(field) > 6:
        p = db.run_params
        typed = _compare(p.c.number, op, value) if isinstance(value, float) else _compare(p.c.text, op, _text(value))
        return _runs_where(p, p.c.key == field[6:], typed)
    if field.startswith("metric.") and len(field) > 7:
        name, _, column = field[7:].partition("@")
        if not isinstance(value, float) or op == "~":
            raise QueryError(f"q: expected a number compared with {field}, got {op} {value!r} at {pos}")
        m = db.run_metrics
        return _runs_where(m, m.c.name == name, m.c.column == (column or "*"), _compare(m.c.value, op, value))
    raise QueryError(
        f"q: expected a field (status, name, data, data_kind, symbol, model, param.<key>, metric.<name>[@<column>]), "
        f"got {field!r} at {pos}"
    )


def parse(text: str) -> ColumnElement | None:
    """The condition of a filter (None for an empty one); :class:`QueryError` names the place of a mistake."""
    if not text.strip():
        return None
    parser = _Parser(text)
    cond = parser.expr()
    parser.take("end", "'and', 'or', ')' or the end")
    return cond
