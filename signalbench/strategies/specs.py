"""The rules an experiment config can name: what each reads, which parameters a config sets, and their checks.

A ``[[strategies]]`` entry of an experiment TOML names a rule of :mod:`signalbench.strategies` and gives its parameters
(a list is a grid). This module is the one place that knows, for each rule, its inputs (class probabilities or a
predicted return, the price, the quoted spread), the keywords a config may set (the rule's own keyword parameters,
less the per-row arrays a TOML cannot hold), and how a value is checked: by calling the rule itself on one row, so a
config is refused with the rule's own message (``enter: expected a finite number in [0.333333, 1), got 1.5``) before
anything is fitted. A grid is bounded by :data:`MAX_GRID_POINTS`, counted as the product of its value lists' lengths
before any combination is built.

``spread_filter`` filters the positions of another rule, named by ``of`` (default ``"sign"``), whose parameters sit
beside its own; its spread is the book's quoted half spread in basis points per row, so ``max_spread`` is in bps.
``rules`` trades a predicted return (a regressor, ``forward_return`` labels) at the traded price; its RSI and volume
filters need per-row arrays and are not available from a config. ``ensemble`` combines several models' outputs into
one, which a config entry (one rule applied to one model's output) cannot express: it is used from Python.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from signalbench._validation import did_you_mean
from signalbench.strategies.grids import check_param_lists

__all__ = [
    "ENTRY_KEYS",
    "MAX_GRID_POINTS",
    "RULES",
    "RuleSpec",
    "bind",
    "check_rule",
    "combinations",
    "entry_params",
    "grid_size",
    "needs_spread",
    "parameters",
    "problems",
]

#: The most combinations one config entry's grid may have (each is a column, or a candidate when tuned).
MAX_GRID_POINTS = 10_000


@dataclass(frozen=True)
class RuleSpec:
    """How a config calls one rule.

    ``signals``: the model outputs it takes (``"proba"``: (n, 3) class probabilities; ``"return"``: a predicted
    return). ``needs``: per-row inputs beyond the signal (``"price"``, ``"spread"``). ``fixed``: keywords a config
    cannot set (per-row arrays and the settings that only act with them). ``wraps``: it filters the positions of the
    rule named by the entry's ``of``.
    """

    signals: tuple[str, ...] = ("proba",)
    needs: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    wraps: bool = False


RULES: dict[str, RuleSpec] = {
    "sign": RuleSpec(signals=("proba", "return")),
    "threshold": RuleSpec(),
    "hysteresis": RuleSpec(),
    "size_by_confidence": RuleSpec(),
    "spread_filter": RuleSpec(needs=("spread",), wraps=True),
    "rules": RuleSpec(
        signals=("return",),
        needs=("price",),
        fixed=("rsi", "rsi_long_max", "rsi_short_min", "volume", "volume_window", "volume_factor"),
    ),
}

_INPUTS = ("proba", "predicted_return", "price", "position", "spread")

#: The keys of a config entry that are not its parameters: the rule, whether its grid is tuned, the rule it wraps.
ENTRY_KEYS = ("rule", "tune", "of")


def check_rule(rule: str) -> str:
    """``rule`` when it is a rule of :data:`RULES`; a ValueError listing them (with a "did you mean") otherwise."""
    if rule not in RULES:
        raise ValueError(f"expected one of {', '.join(map(repr, RULES))}, got {rule!r}{did_you_mean(rule, RULES)}")
    return rule


def needs_spread(rule: str) -> bool:
    """Whether ``rule`` reads the quoted spread of an order book (which bars do not carry)."""
    return "spread" in RULES[rule].needs


def entry_params(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's parameters of a config entry (every key but :data:`ENTRY_KEYS`; a list is a grid)."""
    return {k: v for k, v in entry.items() if k not in ENTRY_KEYS}


def _function(rule: str) -> Callable[..., Any]:
    from signalbench import strategies

    return getattr(strategies, rule)


def own_parameters(rule: str) -> tuple[str, ...]:
    """The keywords of ``rule`` a config may set (its keyword parameters less its inputs and ``fixed``)."""
    skip = set(_INPUTS) | set(RULES[rule].fixed)
    return tuple(p for p in inspect.signature(_function(rule)).parameters if p not in skip)


def _required(rule: str) -> tuple[str, ...]:
    """The keywords of ``rule`` a config must set (those without a default)."""
    signature = inspect.signature(_function(rule)).parameters
    return tuple(p for p in own_parameters(rule) if signature[p].default is inspect.Parameter.empty)


def parameters(rule: str, of: str | None = None) -> tuple[str, ...]:
    """The keywords a config entry of ``rule`` may set (with ``of``'s beside a wrapping rule's own)."""
    inner = own_parameters(of or "sign") if RULES[rule].wraps else ()
    return own_parameters(rule) + inner


def grid_size(params: Mapping[str, Any]) -> int:
    """The number of combinations of a config entry's parameters (a list is a grid), without building any."""
    return math.prod(len(v) if isinstance(v, list) else 1 for v in params.values())


def combinations(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the parameter values, in the order given (the last parameter varies fastest)."""
    names = list(params)
    lists = [v if isinstance(v, list) else [v] for v in params.values()]
    return [dict(zip(names, combo)) for combo in itertools.product(*lists)]


def problems(
    rule: str, params: Mapping[str, Any], *, of: str | None = None, task: str, tune: bool = False
) -> list[tuple[str, str]]:
    """What is wrong with one config entry, as ``(key, message)`` pairs (``""``: the entry); empty when it is good.

    ``task`` is ``"classification"`` or ``"regression"`` (the models' outputs the rule will get). Every value is
    checked by the rule itself, on one row, for every combination of the grid (at most :data:`MAX_GRID_POINTS`).
    With ``tune`` the entry must give a grid to tune (a parameter with a list of 2+ values).
    """
    found = _rule_problems(rule, params, of=of, task=task)
    if tune and not any(isinstance(v, list) and len(v) > 1 for v in params.values()):
        found.append(("tune", "expected a grid to tune (a parameter given as a list of 2+ values)"))
    return found


def _rule_problems(rule: str, params: Mapping[str, Any], *, of: str | None, task: str) -> list[tuple[str, str]]:
    spec = RULES[rule]
    signal = "return" if task == "regression" else "proba"
    if signal not in spec.signals:
        options = ", ".join(repr(r) for r, s in RULES.items() if signal in s.signals)
        labels = "forward_return labels" if signal == "return" else "direction labels"
        what = f"a rule of {_SIGNALS[signal]} ({options}) with {labels}"
        return [("rule", f"expected {what}, got {rule!r} (it trades {_SIGNALS[spec.signals[0]]})")]
    found = _key_problems(rule, params, of)
    if found:
        return found
    size = grid_size(params)
    if size > MAX_GRID_POINTS:
        counts = " x ".join(f"{len(v)} {k}" for k, v in params.items() if isinstance(v, list))
        return [("", f"expected a grid of at most {MAX_GRID_POINTS:,} points, got {size:,} ({counts})")]
    probe = bind(rule, of=of, task=task, price=np.ones(1), spread=np.zeros(1))
    signal_row = np.full((1, 3), np.nan) if signal == "proba" else np.zeros(1)
    seen: dict[str, str] = {}
    for combo in combinations(params):
        try:
            probe(signal_row, **combo)
        except (TypeError, ValueError) as exc:
            head, sep, rest = str(exc).partition(": ")
            key = head if sep and head in params else ""
            seen.setdefault(key, rest if key else str(exc))
    return list(seen.items())


_SIGNALS = {"proba": "class probabilities", "return": "a predicted return"}


def _key_problems(rule: str, params: Mapping[str, Any], of: str | None) -> list[tuple[str, str]]:
    """Unknown keys (with a "did you mean"), ``of`` on a rule that wraps none, and malformed value lists."""
    found = []
    if of is not None and not RULES[rule].wraps:
        found.append(("of", f"not a parameter of {rule!r}: only spread_filter filters another rule's positions"))
    options = [r for r, s in RULES.items() if not s.wraps and "proba" in s.signals]
    if RULES[rule].wraps and of is not None and of not in options:
        found.append(("of", f"expected one of {', '.join(map(repr, options))}, got {of!r}{did_you_mean(of, options)}"))
        return found
    allowed = parameters(rule, of)
    for key in _required(rule):
        if key not in params:
            found.append((key, f"required key is missing (a parameter of {rule!r} without a default)"))
    for key, value in params.items():
        if key not in allowed:
            valid = ", ".join(allowed) or "none"
            found.append((key, f"not a parameter of {rule!r} (its parameters: {valid}){did_you_mean(key, allowed)}"))
        elif isinstance(value, list):
            try:
                check_param_lists({key: value})
            except (TypeError, ValueError) as exc:
                found.append((key, str(exc).partition(": ")[2]))
    return found


def bind(
    rule: str, *, of: str | None = None, task: str = "classification", price: Any = None, spread: Any = None
) -> Callable[..., Any]:
    """``positions(signal, **params)`` of ``rule`` over rows whose price and quoted half spread (bps) are given.

    ``signal`` is (n, 3) class probabilities, or (n,) predicted returns for ``task="regression"`` (traded by their
    sign under ``"sign"``). The result holds the positions of those rows (NaN rows of the signal are flat).
    """
    spec = RULES[rule]
    fn = _function(rule)
    if rule == "sign" and task == "regression":
        return lambda signal: np.sign(np.nan_to_num(np.asarray(signal, dtype=np.float64)))
    if spec.wraps:
        inner, own = bind(of or "sign", task=task, price=price, spread=spread), set(own_parameters(rule))

        def filtered(signal: Any, **params: Any) -> Any:
            base = inner(signal, **{k: v for k, v in params.items() if k not in own})
            return fn(base, spread, **{k: v for k, v in params.items() if k in own})

        return filtered
    if "price" in spec.needs:
        return lambda signal, **params: fn(signal, price, **params)
    return fn
