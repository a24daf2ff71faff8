"""An experiment as one TOML file: validated, with every default filled in, before any work starts.

The schema is a set of pydantic models (:class:`Experiment` at the top). :func:`load_experiment` reads a TOML file with
:mod:`tomllib` and reports **every** problem at once in one :class:`ConfigError`, each with its location in the file
(``models[2].seq_len``), what was expected and what was found; unknown keys get a "did you mean". Numbers are
strict (``true`` is not ``1``, ``inf`` is refused); each strategy entry is checked by its rule
(:mod:`signalbench.strategies.specs`), grids bounded before they are built; costs are checked against the data kind.
Checks that need the data (a model's features and device, fold sizes on the real rows) are made by
:func:`signalbench.experiment.preflight.check` after loading the data, still before anything is fitted, at
``validate`` and at the start of every run, so a config that validates does not fail later for a reason validation
could have seen.

A minimal file::

    name = "amzn"
    [data]
    kind = "lobster"
    path = "../shared/data/lobster/LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"   # relative to the TOML file
    [labels]
    kind = "smoothed_direction"
    horizon = 10
    stationary_quantile = 0.33          # threshold fit on training rows only
    [[models]]
    name = "lstm"
    seq_len = 20                        # any hyperparameter of the model, checked against its declaration

``examples/*.toml`` carry a comment on every key.
"""

from __future__ import annotations

import glob
import inspect
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from signalbench._validation import did_you_mean
from signalbench.engine.book_inputs import parse_latency
from signalbench.strategies import specs as rule_specs
from signalbench.strategies.specs import RULES

__all__ = [
    "BASELINES",
    "BENCHMARKS",
    "RULES",
    "BarsData",
    "Baselines",
    "ConfigError",
    "Compute",
    "Costs",
    "Experiment",
    "Labels",
    "LobsterData",
    "ModelSpec",
    "Split",
    "StrategySpec",
    "SyntheticData",
    "load_experiment",
    "parse_experiment",
]

#: Baseline models added to every experiment unless turned off by name in ``[baselines] exclude``.
BASELINES = ("majority", "persistence", "logistic")


class ConfigError(ValueError):
    """An experiment file with problems; ``problems`` lists ``(location, message)`` for each, all at once."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {loc}: {msg}" if loc else f"  {msg}" for loc, msg in problems)
        n = len(problems)
        super().__init__(f"{source}: {n} problem{'s' if n != 1 else ''} in the experiment config:\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True, strict=True, allow_inf_nan=False)


# ----------------------------------------------------------------------------------------------------------- data


class SyntheticData(_Strict):
    """Synthetic ticks with a planted edge of known Bayes accuracy (:func:`signalbench.data.synthetic_ticks`)."""

    kind: Literal["synthetic"]
    n: Annotated[int, Field(ge=200, le=50_000_000)] = 20_000
    edge: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    signal: Literal["queue_imbalance", "trade_flow"] = "queue_imbalance"
    flow_window: Annotated[int, Field(ge=1)] = 10
    levels: Annotated[int, Field(ge=1, le=50)] = 1
    ticks_per_day: Annotated[int, Field(ge=100)] | None = None
    leaky: bool = False
    seed: int | None = None
    # many symbols x many days: each (symbol, day) a piece drawn from a seed derived from (seed, symbol, day)
    symbols: Annotated[int, Field(ge=1, le=10_000)] = 1
    days: Annotated[int, Field(ge=1, le=100_000)] | None = None  # default: n / ticks_per_day days (1 without it)

    @model_validator(mode="after")
    def _days(self) -> SyntheticData:
        from signalbench.data.pieces import synthetic_layout

        synthetic_layout(self.n, self.ticks_per_day, self.days)  # raises naming data.days
        return self


class LobsterData(_Strict):
    """LOBSTER message and order-book files: a zip, a folder, or a list of them (paths relative to the TOML file).

    Each entry may be a glob (``"data/*_message_10.csv"``); every (symbol, day) found is a piece
    (:func:`signalbench.data.pieces.discover`).
    """

    kind: Literal["lobster"]
    path: str | list[str]
    levels: Annotated[int, Field(ge=1, le=200)] | None = None
    crossed: Literal["raise", "drop", "keep"] = "raise"


class BarsData(_Strict):
    """OHLCV bars from a CSV or Parquet file (:func:`signalbench.data.load_bars`); traded at ``close``.

    ``path`` may be a list and hold globs: one file per symbol (the symbol is ``symbol`` when given, else the file
    name's stem up to its first ``_``) or a long file with a ``symbol`` column; each (symbol, day) is a piece.
    """

    kind: Literal["bars"]
    path: str | list[str]
    symbol: Annotated[str, Field(min_length=1)] | None = None
    timestamp: str | None = None
    tz: str | None = None


Data = Annotated[SyntheticData | LobsterData | BarsData, Field(discriminator="kind")]


# ------------------------------------------------------------------------------------------------ labels and split


class Labels(_Strict):
    """What the classifiers learn (a look-ahead target, never a feature).

    ``direction``: the sign of the move of the traded price over ``horizon`` rows (ties are their own class).
    ``smoothed_direction``: FI-2010 style, the mean of the next ``horizon`` mids against the current one; the
    stationary band is either ``threshold`` (relative change) or ``stationary_quantile`` of |change| fitted on the
    training rows only. ``forward_return``: the log return over ``horizon`` rows, for regressors.
    """

    kind: Literal["direction", "smoothed_direction", "forward_return"] = "direction"
    horizon: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    threshold: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None
    stationary_quantile: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> Labels:
        if self.threshold is not None and self.stationary_quantile is not None:
            raise ValueError("give threshold or stationary_quantile, not both")
        if self.kind == "forward_return" and (self.threshold is not None or self.stationary_quantile is not None):
            raise ValueError("forward_return labels have no stationary band: drop threshold/stationary_quantile")
        return self


#: Day-split fields (``kind = "days" | "walk_forward_days"``) and fraction fields (``holdout`` | ``walk_forward``).
DAY_FIELDS = ("train_days", "val_days", "test_days", "step", "rolling")
FRACTION_FIELDS = ("train", "val", "test", "n_folds")
DAY_KINDS = ("days", "walk_forward_days")

Days = Annotated[int, Field(ge=0, le=100_000)] | list[str]


class Split(_Strict):
    """Chronological split; the purge gap between parts is derived from the horizon and the longest window.

    ``holdout``: the first ``train`` fraction of the usable rows trains, the next ``val`` validates (early stopping,
    strategy tuning), the last ``test`` is tested (``train + val + test <= 1``). ``walk_forward``: ``n_folds``
    consecutive test blocks over the last ``test`` fraction of the usable rows; each fold refits on everything before
    its block, keeping the last ``val / (train + val)`` share of those rows as its own validation tail. With several
    pieces (symbols, days) these work inside each piece, and the training rows of all pieces are pooled.

    ``days``: ``train_days``, ``val_days`` and ``test_days`` (counts, in time order over the data's calendar, or
    lists of ISO dates) are the same calendar days for every symbol. ``walk_forward_days``: train on the first
    ``train_days`` days (all days before the fold when ``rolling = false``, the last ``train_days`` when true),
    validate on the next ``val_days``, test on the next ``step`` days, then roll by ``step`` (over the last
    ``test_days`` days when given, else every day after the first window). The purge between parts is a whole day.
    ``pool``: fit one model per symbol (``"symbol"``) or one on the training pieces of every symbol (``"all"``).
    """

    kind: Literal["holdout", "walk_forward", "days", "walk_forward_days"] = "holdout"
    train: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.6
    val: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.2
    test: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.2
    n_folds: Annotated[int, Field(ge=1, le=100)] = 4
    train_days: Days | None = None
    val_days: Days | None = None
    test_days: Days | None = None
    step: Annotated[int, Field(ge=1, le=100_000)] = 1
    rolling: bool = False
    pool: Literal["symbol", "all"] = "symbol"

    @model_validator(mode="after")
    def _fractions(self) -> Split:
        total = self.train + self.val + self.test
        if self.kind == "holdout" and total > 1.0 + 1e-9:
            raise ValueError(
                f"train + val + test must be at most 1, got {self.train:g} + {self.val:g} + {self.test:g} = {total:g}"
            )
        return self

    @model_validator(mode="after")
    def _day_fields(self) -> Split:
        from signalbench.experiment.dayfolds import day_field_problems

        problems = day_field_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def by_day(self) -> bool:
        """Whether the folds are made of whole days (``days`` or ``walk_forward_days``)."""
        return self.kind in DAY_KINDS


class Compute(_Strict):
    """Where the tasks of a run (its fits and predictions) are computed and stored (:mod:`signalbench.compute`).

    ``executor = "local"``: a process pool on this machine (``workers``, default: the number of cores for a
    multi-piece run, this process for a single-piece run);
    ``"dask"``: the cluster at ``address`` (``"tcp://host:8786"``), or a local Dask cluster of ``workers`` processes
    when no address is given. ``cache``: the task store (default ``<run folder>/tasks``; relative to the TOML file).
    ``fail_fast``: stop at the first failed task (else every other task finishes and the failures are reported).
    """

    executor: Literal["local", "dask"] = "local"
    workers: Annotated[int, Field(ge=1, le=4096)] | None = None
    address: str | None = None
    cache: str | None = None
    fail_fast: bool = False

    @model_validator(mode="after")
    def _address(self) -> Compute:
        if self.address is not None and self.executor != "dask":
            raise ValueError(f'address: only with executor = "dask", got executor = {self.executor!r}')
        if self.address is not None and not re.fullmatch(r"(tcp|tls|ucx)://[^\s/]+:\d+", self.address):
            raise ValueError(f"address: expected a scheduler address such as 'tcp://host:8786', got {self.address!r}")
        return self


_Size = Annotated[int, Field(ge=1, le=10_000_000)]
_Notional = Annotated[float, Field(gt=0.0, le=1e12)]
#: The benchmark columns every run prices beside the models (a key of a per-column ``size`` may name one).
BENCHMARKS = ("oracle", "naive_oracle", "buy_and_hold")


class Costs(_Strict):
    """Costs paid by every column alike, in basis points per unit of exposure traded, and latency in rows.

    Under ``model = "book"``, ``size`` (or ``notional``) may be a table giving some columns their own:
    ``size = {default = 100, lstm = 500, "logistic:sign" = 200}``. A key is a column's full name, a model's name
    (all its columns) or a benchmark (``oracle``, ``naive_oracle``, ``buy_and_hold``); ``default`` (required) is
    every other column's. A column takes its own key first, then its model's, then ``default``.
    """

    fee_bps: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    slippage_bps: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    half_spread_bps: Annotated[float, Field(ge=0.0, le=10_000.0)] | Literal["quoted"] = 0.0
    delay: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    close_at_end: bool = True
    # model = "book": execution on the LOBSTER book (signalbench.engine.book); the fields below belong to it
    model: Literal["linear", "book"] = "linear"
    # size and notional: one for every column, or a table per column, model or benchmark (see per_column)
    size: _Size | dict[str, _Size] | None = None
    notional: _Notional | dict[str, _Notional] | None = None  # an amount, converted to shares at the mid
    latency: str | Annotated[float, Field(ge=0.0)] | None = None
    unfilled: Literal["partial", "penalty", "raise"] = "partial"
    penalty_bps: Annotated[float, Field(ge=0.0, le=10_000.0)] = 0.0
    capacity_sizes: list[Annotated[int, Field(ge=1, le=10_000_000)]] | None = None

    @model_validator(mode="after")
    def _book(self) -> Costs:
        book_only = [k for k in ("size", "notional", "latency", "capacity_sizes") if getattr(self, k) is not None]
        if self.model == "linear" and book_only:
            raise ValueError(f'{", ".join(book_only)}: only with model = "book" (execution on the order book)')
        if self.model == "book" and (self.size is None) == (self.notional is None):
            raise ValueError(
                'model = "book" needs exactly one of size (the shares traded at exposure 1) and notional (the '
                "amount traded at exposure 1, converted to shares at the mid of the first row an order executes on)"
                + (", got both" if self.size is not None else "")
            )
        if self.latency is not None and self.delay:
            raise ValueError("latency and delay: give one (latency in time, or delay in rows), not both")
        if self.latency is not None:
            parse_latency(self.latency)
        sizes = self.capacity_sizes
        if sizes is not None and (not sizes or len(set(sizes)) != len(sizes)):
            raise ValueError(f"capacity_sizes: expected a non-empty list of distinct sizes, got {sizes}")
        for name in ("size", "notional"):
            table = getattr(self, name)
            if isinstance(table, dict) and "default" not in table:
                raise ValueError(
                    f"{name}: expected a table with a default (the {name} of every column not named), "
                    f"got keys {', '.join(map(repr, table))}; add default = ..."
                )
        return self

    def per_column(self, name: Literal["size", "notional"], columns: list[str]) -> Any:
        """``size`` or ``notional`` as given, or, from a table, one value per column (the class docstring's rule)."""
        table = getattr(self, name)
        if not isinstance(table, dict):
            return table
        out = []
        for col in columns:
            owners = [k for k in table if k != "default" and col.startswith(f"{k}:")]
            key = col if col in table else max(owners, key=len) if owners else "default"
            out.append(table[key])
        return out


# ------------------------------------------------------------------------------------------- models and strategies


class ModelSpec(BaseModel):
    """One signal model: ``name`` from the registry, an optional column ``label``, and its hyperparameters inline."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    name: str
    label: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The hyperparameters given in the file (everything but ``name`` and ``label``)."""
        return dict(self.model_extra or {})

    @property
    def column(self) -> str:
        """The name of this model's columns in the outputs."""
        return self.label or self.name


class StrategySpec(BaseModel):
    """A position rule of :mod:`signalbench.strategies`; a parameter given as a list is a grid.

    With ``tune = true`` the grid is searched on the validation rows (net return after costs, "stay flat" always a
    candidate) and only the choice is tested; otherwise every grid point is its own column (and a trial of the
    deflated Sharpe). ``of`` names the rule whose positions ``spread_filter`` filters (default ``"sign"``). The rules,
    their parameters and their checks are those of :mod:`signalbench.strategies.specs`.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    rule: str
    tune: bool = False
    of: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        """The rule's parameters as given (scalars or lists)."""
        return dict(self.model_extra or {})

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, v: str) -> str:
        return rule_specs.check_rule(v)

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of the parameter values, in the order given."""
        return rule_specs.combinations(self.params)

    def column(self, model: str, params: dict[str, Any], tuned: bool) -> str:
        """The name of ``model``'s column under this rule: ``lstm:sign``, ``lstm:threshold(min_edge=0.1)``, ..."""
        rule = f"{self.rule}[{self.of or 'sign'}]" if rule_specs.RULES[self.rule].wraps else self.rule
        if tuned:
            return f"{model}:{rule}(tuned)"
        if not params:
            return f"{model}:{rule}"
        inner = ",".join(f"{k}={_value(v)}" for k, v in params.items())
        return f"{model}:{rule}({inner})"

    def columns(self, model: str) -> list[str]:
        """Every column this rule gives ``model``: one when tuned, else one per grid point."""
        if self.tune:
            return [self.column(model, {}, tuned=True)]
        return [self.column(model, p if self.params else {}, tuned=False) for p in self.grid()]


def _value(v: Any) -> str:
    """A parameter value in a column name: numbers in ``%g`` form, flags and names as written."""
    return f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


class Baselines(_Strict):
    """The baselines added to every experiment (majority, persistence, logistic) unless excluded by name."""

    exclude: list[Literal["majority", "persistence", "logistic"]] = []


# ---------------------------------------------------------------------------------------------------- experiment


class Experiment(_Strict):
    """One experiment: data -> features -> labels -> split -> models -> strategies -> one backtest.

    Build it from a TOML file with :func:`load_experiment`, or directly with keyword arguments (nested dicts are
    validated the same way). ``base_dir`` is the folder relative paths are read from (the TOML file's folder).
    """

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    data: Data
    features: str | list[str] = "lob_basic"
    labels: Labels = Labels()
    split: Split = Split()
    costs: Costs = Costs()
    models: list[ModelSpec] = []
    baselines: Baselines = Baselines()
    strategies: list[StrategySpec] = [StrategySpec(rule="sign")]
    compute: Compute = Compute()
    periods_per_year: Annotated[float, Field(gt=0.0)] | None = None
    base_dir: str = "."

    @field_validator("features")
    @classmethod
    def _feature_sets(cls, v: str | list[str]) -> list[str]:
        from signalbench.data import available_feature_sets

        names = [v] if isinstance(v, str) else list(v)
        if not names:
            raise ValueError("expected a feature-set name or a non-empty list of names")
        known = available_feature_sets()
        bad = [f"{n!r}{did_you_mean(n, known)}" for n in names if n not in known]
        if bad:
            raise ValueError(f"unknown feature set {', '.join(bad)}; available: {', '.join(known)}")
        return names

    @model_validator(mode="after")
    def _per_column_keys(self) -> Experiment:
        tables = [(n, t) for n in ("size", "notional") if isinstance(t := getattr(self.costs, n), dict)]
        if not tables:
            return self
        models = [m.column for m in self.model_specs()]
        bounded = [s for s in self.strategies if rule_specs.grid_size(s.params) <= rule_specs.MAX_GRID_POINTS]
        columns = {c for m in models for spec in bounded for c in spec.columns(m)}  # larger grids: reported elsewhere
        for name, table in tables:
            unknown = [k for k in table if k not in {"default", *BENCHMARKS, *models, *columns}]
            if unknown:
                known = [*models, *sorted(columns), *BENCHMARKS]
                raise ValueError(
                    f"costs.{name}: expected keys naming a column, a model or a benchmark (or default), got "
                    f"{unknown[0]!r}{did_you_mean(unknown[0], known)}; the columns: {', '.join(known)}"
                )
        return self

    def model_specs(self) -> list[ModelSpec]:
        """The listed models followed by the baselines that are not excluded (and not already listed).

        The baselines are classifiers: with ``forward_return`` labels (regressors) none is added.
        """
        if self.labels.kind == "forward_return":
            return list(self.models)
        listed = {m.name for m in self.models}
        extra = [ModelSpec(name=b) for b in BASELINES if b not in self.baselines.exclude and b not in listed]
        return [*self.models, *extra]

    def resolve(self, path: str | list[str]) -> Path | list[Path]:
        """A path of the config, relative to ``base_dir`` unless absolute."""
        if isinstance(path, list):
            return [self.resolve(p) for p in path]  # type: ignore[misc]
        p = Path(path).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p)


# ------------------------------------------------------------------------------------------------------ loading


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("synthetic", "lobster", "bars", "str", "int", "float", "bool"):
            continue  # pydantic's names for the member of a union
        elif isinstance(part, str) and ("-" in part or "[" in part):
            continue  # pydantic's names for constrained types and validators
        else:
            out += f".{part}" if out else str(part)
    return out


def _fields_at(loc: tuple[Any, ...], raw: Any) -> list[str]:
    """The keys the schema accepts at ``loc`` (for a "did you mean" on an unknown key)."""
    model: Any = Experiment
    node = raw
    for part in loc:
        if isinstance(part, int) or model is None:
            node = node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else node
            continue
        if part in ("synthetic", "lobster", "bars"):
            model = {"synthetic": SyntheticData, "lobster": LobsterData, "bars": BarsData}[part]
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            break
        ann = field.annotation
        node = node.get(part) if isinstance(node, dict) else None
        model = _model_of(ann, node)
    return list(model.model_fields) if hasattr(model, "model_fields") else []


def _model_of(annotation: Any, node: Any) -> Any:
    import typing

    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for a in args:
        m = _model_of(a, node)
        if m is not None:
            if isinstance(node, dict) and "kind" in node and m in (SyntheticData, LobsterData, BarsData):
                return {"synthetic": SyntheticData, "lobster": LobsterData, "bars": BarsData}.get(node["kind"], m)
            return m
    return None


_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
_KINDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def _literal_choices(text: str) -> list[str]:
    """The quoted choices in a message about a Literal (``"'holdout' or 'walk_forward'"`` -> both names)."""
    return re.findall(r"'([^']*)'", text)


def _expected(err: dict[str, Any]) -> str:
    """What the schema wanted, in the library's words."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "?")
        return f"a number {_BOUNDS[kind]} {bound}"
    if kind == "literal_error":  # pydantic's "'a', 'b' or 'c'" in the form of _validation.choice: 'a', 'b', 'c'
        return "one of " + ", ".join(repr(o) for o in _literal_choices(str(ctx.get("expected", ""))))
    if kind == "string_pattern_mismatch":
        return "letters, digits, '_', '.' or '-' only"
    if kind in ("string_too_short", "too_short"):
        return "a non-empty value"
    if kind in ("string_too_long", "too_long"):
        return f"at most {ctx.get('max_length', '?')} characters"
    return _KINDS.get(kind, err["msg"])


def _problems(exc: ValidationError, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Pydantic's errors as ``(location, message)`` in the library's message form; union alternatives merged."""
    merged: dict[str, list[str]] = {}
    found: dict[str, Any] = {}
    for err in exc.errors(include_url=False):
        loc = _location(err["loc"])
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            options = [o for o in _fields_at(err["loc"][:-1], raw) if o != "base_dir"]
            msg = f"unknown key{did_you_mean(key, options)}"
            merged.setdefault(loc, []).append(msg + (f"; expected one of {', '.join(options)}" if options else ""))
        elif err["type"] == "missing":
            merged.setdefault(loc, []).append("required key is missing")
        elif err["type"] in ("value_error", "assertion_error"):
            merged.setdefault(loc, []).append(err["msg"].removeprefix("Value error, "))
        else:
            merged.setdefault(loc, []).append("\0" + _expected(err))
            found[loc] = err.get("input")
    problems = []
    for loc, msgs in merged.items():
        wanted = [m[1:] for m in msgs if m.startswith("\0")]
        other = [m for m in msgs if not m.startswith("\0")]
        if wanted:
            value = found.get(loc)
            hint = did_you_mean(value, _literal_choices(wanted[-1]))
            problems.append((loc, f"expected {' or '.join(dict.fromkeys(wanted))}, got {value!r}{hint}"))
        problems += [(loc, m) for m in other]
    return problems


def parse_experiment(raw: dict[str, Any], *, source: str = "<config>", base_dir: str | Path = ".") -> Experiment:
    """Validate a config held as a dict (the parsed TOML); raise :class:`ConfigError` listing every problem.

    The model hyperparameters are checked against each model's declaration (by building the model), so a wrong
    ``seq_len`` is reported here with its location, not minutes into a run.
    """
    data = {**raw, "base_dir": str(base_dir)}
    problems: list[tuple[str, str]] = []
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc, raw)
        experiment = None
    problems += _model_problems(raw) + _strategy_problems(raw) + _task_problems(raw)
    problems += _path_problems(raw, Path(base_dir)) + _book_problems(raw)
    if problems:
        raise ConfigError(source, problems)
    assert experiment is not None
    return experiment


def _task_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Classifiers for direction labels, regressors for ``forward_return`` (their rules: ``_strategy_problems``)."""
    from signalbench.signals import registry

    labels = raw.get("labels", {})
    regression = isinstance(labels, dict) and labels.get("kind") == "forward_return"
    want = "regression" if regression else "classification"
    problems = []
    for i, entry in enumerate(raw.get("models", []) if isinstance(raw.get("models"), list) else []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in registry.available():
            continue  # reported elsewhere
        try:
            task = getattr(registry.get(name), "task", "classification")
        except Exception:  # a plugin failing to load is reported elsewhere
            continue
        if task != want:
            kind = labels.get("kind", "direction") if isinstance(labels, dict) else "direction"
            message = f"expected a {want} model for {kind!r} labels, got {name!r} ({task})"
            problems.append((f"models[{i}].name", message))
    return problems


def _strategy_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Each ``[[strategies]]`` entry, checked by :func:`signalbench.strategies.specs.problems` (the rules' checks)."""
    entries = raw.get("strategies", [])
    if not isinstance(entries, list):
        return []
    labels = raw.get("labels", {})
    task = "regression" if isinstance(labels, dict) and labels.get("kind") == "forward_return" else "classification"
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("rule") not in RULES:
            continue  # the schema reported it
        of = entry.get("of")
        params = rule_specs.entry_params(entry)
        found = rule_specs.problems(
            entry["rule"], params, of=of if isinstance(of, str) else None, task=task, tune=entry.get("tune") is True
        )
        problems += [(f"strategies[{i}].{key}" if key else f"strategies[{i}]", msg) for key, msg in found]
    return problems


def _book_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """What needs a quoted order book (``half_spread_bps = "quoted"``, ``spread_filter``) on bars, which have none."""
    data = raw.get("data")
    if not isinstance(data, dict) or data.get("kind") != "bars":
        return []
    problems = []
    costs = raw.get("costs")
    if isinstance(costs, dict) and costs.get("half_spread_bps") == "quoted":
        hint = "bars carry no quoted book: give a fixed half spread in bps"
        problems.append(("costs.half_spread_bps", f"expected a number for bars, got 'quoted'; {hint}"))
    if isinstance(costs, dict) and costs.get("model") == "book":
        problems.append(("costs.model", 'expected "linear" for bars (they carry no order book to walk), got "book"'))
    entries = raw.get("strategies", [])
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("rule"), str) and entry["rule"] in RULES:
            if rule_specs.needs_spread(entry["rule"]):
                why = "the quoted spread of an order book (LOBSTER or synthetic data); bars carry none"
                problems.append((f"strategies[{i}].rule", f"{entry['rule']!r} needs {why}"))
    return problems


def _path_problems(raw: dict[str, Any], base_dir: Path) -> list[tuple[str, str]]:
    """Data files that do not exist (checked on the raw config, so they are reported with every other problem)."""
    data = raw.get("data")
    if not isinstance(data, dict) or data.get("kind") not in ("lobster", "bars"):
        return []
    path = data.get("path")
    paths = path if isinstance(path, list) else [path]
    problems = []
    for k, p in enumerate(paths):
        if not isinstance(p, str):
            continue  # the schema reported it
        resolved = Path(p).expanduser()
        resolved = resolved if resolved.is_absolute() else base_dir / resolved
        loc = f"data.path[{k}]" if isinstance(path, list) else "data.path"
        if glob.has_magic(str(resolved)):
            if not glob.glob(str(resolved)):
                problems.append((loc, f"expected a pattern that matches files, got {p!r} (nothing at {resolved})"))
        elif not resolved.exists():
            problems.append((loc, f"expected an existing file or folder, got {p!r} (resolved to {resolved})"))
    return problems


def _model_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Check each ``[[models]]`` entry by building the model (its declared hyperparameter checks run)."""
    from signalbench.signals import registry

    models = raw.get("models", [])
    if not isinstance(models, list):
        return []
    known = registry.available()
    problems = []
    labels: dict[str, int] = {}
    for i, entry in enumerate(models):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue  # pydantic reported it
        name = entry["name"]
        if name not in known:
            expect = f"expected a registered model ({', '.join(known)}), got {name!r}{did_you_mean(name, known)}"
            problems.append((f"models[{i}].name", expect))
            continue
        params = {k: v for k, v in entry.items() if k not in ("name", "label")}
        try:
            valid = [p for p in inspect.signature(registry.get(name)).parameters]
        except Exception as exc:  # a plugin failing to load
            problems.append((f"models[{i}].name", f"{name!r} could not be loaded: {exc}"))
            continue
        for key in [k for k in params if k not in valid]:
            problems.append((f"models[{i}].{key}", f"unknown hyperparameter of {name!r}{did_you_mean(key, valid)}"))
            del params[key]
        column = entry.get("label") or name
        if column in labels:
            taken = f"column {column!r} is already used by models[{labels[column]}]; give a distinct label"
            problems.append((f"models[{i}].label", taken))
        labels[column] = i
        try:
            registry.create(name, **params)
        except (TypeError, ValueError) as exc:
            problems.append(_param_problem(i, str(exc), params))
    return problems


def _param_problem(i: int, message: str, params: dict[str, Any]) -> tuple[str, str]:
    head, sep, rest = message.partition(": ")
    if sep and head in params:
        return (f"models[{i}].{head}", rest)
    return (f"models[{i}]", message)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file (relative paths inside it are relative to its folder).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ConfigError
        For a TOML syntax error or any schema problem, all listed at once with their locations.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"experiment config {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [("", f"not valid TOML: {exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [("", f"not a UTF-8 text file: {exc}")]) from None
    return parse_experiment(raw, source=str(path), base_dir=path.resolve().parent)
