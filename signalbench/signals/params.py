"""Hyperparameters declared once: a table of name -> default + rule, checked when a model is made or changed.

A model class lists its hyperparameters in the class attribute ``hyperparameters``, a mapping built with
:func:`declare` from shared groups (the training settings, the LSTM's architecture, ...), in the manner of
scikit-learn's ``_parameter_constraints``. :class:`~signalbench.signals.base.SignalModel` then gives the class a
keyword-only ``__init__`` whose ``inspect.signature`` lists every name with its default, checks every value with its
rule (the library's rule: ``TypeError`` for a wrong kind, ``ValueError`` for a wrong value, see
:mod:`signalbench._validation`), and adds a numpydoc "Parameters" section to the class docstring. ``get_params``,
``set_params`` (checked the same way), ``repr`` and save/load work from the same table.

A rule is a callable ``rule(value, name) -> value`` that returns the value to store (a Python ``int`` for an integer,
a ``float`` for a number) or raises; its ``kind`` is the type text of the generated docstring.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from signalbench import _validation as v

__all__ = [
    "Bool",
    "Choice",
    "Float",
    "Hyperparameters",
    "Int",
    "Param",
    "Rule",
    "check_names",
    "declare",
    "parameters_section",
    "signature",
]


@dataclass(frozen=True)
class Int:
    """An integer in ``[minimum, maximum]`` (or None when ``allow_none``)."""

    minimum: int | None = None
    maximum: int | None = None
    allow_none: bool = False

    def __call__(self, value: Any, name: str) -> Any:
        """Check ``value`` and return it as ``int`` (or None)."""
        return v.integer(value, name, minimum=self.minimum, maximum=self.maximum, allow_none=self.allow_none)

    @property
    def kind(self) -> str:
        """Docstring type text."""
        bound = f" >= {self.minimum}" if self.minimum is not None else ""
        return "int" + bound + (" or None" if self.allow_none else "")


@dataclass(frozen=True)
class Float:
    """A finite number in an interval (or None when ``allow_none``)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_none: bool = False

    def __call__(self, value: Any, name: str) -> Any:
        """Check ``value`` and return it as ``float`` (or None)."""
        return v.number(
            value,
            name,
            low=self.low,
            high=self.high,
            low_open=self.low_open,
            high_open=self.high_open,
            allow_none=self.allow_none,
        )

    @property
    def kind(self) -> str:
        """Docstring type text."""
        if self.low is not None and self.high is not None:
            lo, hi = ("(" if self.low_open else "["), (")" if self.high_open else "]")
            text = f"float in {lo}{self.low:g}, {self.high:g}{hi}"
        elif self.low is not None:
            text = f"float {'>' if self.low_open else '>='} {self.low:g}"
        else:
            text = "float"
        return text + (" or None" if self.allow_none else "")


@dataclass(frozen=True)
class Bool:
    """``True`` or ``False`` (or None when ``allow_none``); a string such as ``"yes"`` is a ``TypeError``."""

    allow_none: bool = False

    def __call__(self, value: Any, name: str) -> Any:
        """Check ``value`` and return it as ``bool`` (or None)."""
        if value is None and self.allow_none:
            return None
        try:
            return v.boolean(value, name)
        except TypeError:
            if not self.allow_none:
                raise
            raise TypeError(v.expected(name, "True, False or None", value)) from None

    @property
    def kind(self) -> str:
        """Docstring type text."""
        return "bool or None" if self.allow_none else "bool"


@dataclass(frozen=True)
class Choice:
    """One of a few values; a near miss gets a "did you mean" (:func:`signalbench._validation.choice`)."""

    options: tuple

    def __call__(self, value: Any, name: str) -> Any:
        """Check ``value`` and return it."""
        return v.choice(value, name, self.options)

    @property
    def kind(self) -> str:
        """Docstring type text."""
        return "{" + ", ".join(repr(o) for o in self.options) + "}"


@dataclass(frozen=True)
class Rule:
    """A rule written as a function ``check(value, name) -> value``, with its docstring type text."""

    check: Callable[[Any, str], Any]
    kind: str

    def __call__(self, value: Any, name: str) -> Any:
        """Check ``value`` and return what to store."""
        return self.check(value, name)


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its default, its rule and one line of documentation."""

    default: Any
    rule: Callable[[Any, str], Any] = field(repr=False)
    doc: str = ""


def declare(*groups: Mapping[str, Param], **defaults: Any) -> dict[str, Param]:
    """Merge groups of hyperparameters (in order) and change some defaults.

    Parameters
    ----------
    *groups : mapping of str to Param
        Shared groups, e.g. the window length, an architecture, the training settings.
    **defaults
        New defaults by name (checked with their rule).

    Returns
    -------
    dict of str to Param
        The table for a model class's ``hyperparameters``.
    """
    table: dict[str, Param] = {}
    for group in groups:
        table.update(group)
    for name, default in defaults.items():
        if name not in table:
            raise ValueError(v.expected(name, "a declared hyperparameter", "an unknown name", raw=True))
        table[name] = replace(table[name], default=table[name].rule(default, name))
    return table


def check_names(owner: str, given: Sequence[str], valid: Sequence[str]) -> None:
    """``ValueError`` naming the first unknown hyperparameter, with a "did you mean" and the valid names."""
    for name in given:
        if name not in valid:
            raise ValueError(
                v.expected(
                    str(name),
                    f"a hyperparameter of {owner} ({', '.join(valid) or 'it has none'})",
                    "an unknown name",
                    raw=True,
                )
                + v.did_you_mean(name, valid)
            )


def signature(table: Mapping[str, Param]) -> inspect.Signature:
    """``(self, *, name=default, ...)``: the signature of the ``__init__`` made from ``table``."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.default) for k, p in table.items()]
    return inspect.Signature(params)


def parameters_section(table: Mapping[str, Param]) -> str:
    """A numpydoc "Parameters" section listing every hyperparameter, its type, default and documentation."""
    if not table:
        return "\n\n    This model has no hyperparameters.\n"
    lines = ["", "", "    Parameters", "    ----------"]
    for name, p in table.items():
        kind = getattr(p.rule, "kind", "")
        lines.append(f"    {name} : {kind}, default {p.default!r}")
        if p.doc:
            lines.append(f"        {p.doc}")
    return "\n".join(lines) + "\n"


def _declared_init(table: Mapping[str, Param]) -> Callable[..., None]:
    """The keyword-only ``__init__`` of a class that declares ``hyperparameters``: check, then store."""

    def __init__(self, **params: Any) -> None:
        defaults = {k: p.default for k, p in type(self).hyperparameters.items()}
        for key, value in self._checked_params(params, defaults).items():
            setattr(self, key, value)

    __init__.__signature__ = signature(table)  # type: ignore[attr-defined]
    __init__._declared = True  # type: ignore[attr-defined]
    return __init__


class Hyperparameters:
    """The hyperparameter half of :class:`~signalbench.signals.base.SignalModel` (scikit-learn's parameter API).

    A subclass that sets ``hyperparameters`` (a table made with :func:`declare`) gets a generated keyword-only
    ``__init__`` that checks every value with its rule and stores it, and a "Parameters" section appended to its
    docstring. A subclass may instead write its own keyword-only ``__init__`` storing its arguments under the same
    names (a plugin's way): ``get_params`` then reads the signature and ``_validate_params`` checks ``seq_len`` at
    ``fit``.
    """

    name: ClassVar[str] = ""
    hyperparameters: ClassVar[Mapping[str, Param]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("hyperparameters")
        if table is None:
            return
        if "__init__" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: declare hyperparameters or write __init__, not both")
        cls.__init__ = _declared_init(table)  # type: ignore[method-assign]
        cls.__doc__ = (cls.__doc__ or "").rstrip() + parameters_section(table)

    # ------------------------------------------------------------------ hyperparameters (scikit-learn style)

    @classmethod
    def _param_names(cls) -> list[str]:
        names = []
        for p in inspect.signature(cls.__init__).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must list its hyperparameters explicitly (no *args/**kw)")
            names.append(p.name)
        return names

    @classmethod
    def _owner(cls) -> str:
        return repr(cls.name) if cls.name else cls.__name__

    @classmethod
    def _declared(cls) -> bool:
        return bool(getattr(cls.__init__, "_declared", False))

    @classmethod
    def _checked_params(cls, given: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
        """``current`` updated with ``given``, every value checked by its rule.

        The combination is checked by :meth:`_check_combination`; unknown names are a ``ValueError`` with a "did you
        mean".
        """
        table = cls.hyperparameters
        check_names(cls._owner(), list(given), list(table))
        values = {**current, **given}
        checked = {k: table[k].rule(values[k], k) for k in table}
        cls._check_combination(checked)
        return checked

    @classmethod
    def _check_combination(cls, params: dict[str, Any]) -> None:
        """Checks that involve several hyperparameters (each one already passed its own rule)."""

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to ``__init__`` (ints and floats as Python numbers).

        Returns
        -------
        dict
            Name to value for every ``__init__`` argument.
        """
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> Hyperparameters:
        """Change hyperparameters (the model must be fitted again for them to take effect).

        Every value is checked as in ``__init__``; on an error nothing is changed.

        Parameters
        ----------
        **params
            Hyperparameters by name.

        Returns
        -------
        SignalModel
            ``self``.

        Raises
        ------
        ValueError
            For a name that is not a hyperparameter of this model (with the closest match suggested) or a wrong value.
        TypeError
            For a value of the wrong kind.
        """
        check_names(self._owner(), list(params), self._param_names())
        if self._declared():
            params = self._checked_params(params, self.get_params())
        for k, value in params.items():
            setattr(self, k, value)
        self._forget_derived()
        return self

    def _forget_derived(self) -> None:
        """Drop what was derived from the hyperparameters and learned state (caches); called by ``set_params``."""

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__).parameters
        shown = []
        for k, value in self.get_params().items():
            default = sig[k].default
            try:
                same = default is not inspect.Parameter.empty and bool(default == value)
            except Exception:  # array-likes
                same = False
            if not same:
                shown.append(f"{k}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def _validate_params(self) -> None:
        """Check the hyperparameters again at the start of ``fit`` (they may have been assigned directly)."""
        if self._declared():
            self._checked_params({}, self.get_params())
        else:
            v.integer(getattr(self, "seq_len", 1), "seq_len", minimum=1)
