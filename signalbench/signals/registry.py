"""Finding signal models by name: the built-ins and third-party plugins.

A plugin is a :class:`~signalbench.signals.base.SignalModel` subclass published by any installed distribution under
the ``signalbench.signals`` entry-point group::

    [project.entry-points."signalbench.signals"]
    my_model = "my_package.models:MyModel"

Entry points are listed without importing anything; a plugin's module is imported the first time its name is asked
for (``create``, ``get``, ``load``), and an import failure is reported as :class:`PluginLoadError` naming the plugin,
its entry point and the distribution it came from. Built-in names are resolved without entry points; an entry point
with a built-in's name that points elsewhere is ignored (with a warning) so that saved built-in models always load as
themselves.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import warnings

__all__ = ["BUILTINS", "GROUP", "PluginLoadError", "available", "create", "get", "unknown_params_error"]

#: Entry-point group of signal-model plugins.
GROUP = "signalbench.signals"

#: Built-in models: name -> "module:Class" (imported lazily).
BUILTINS: dict[str, str] = {
    "lstm": "signalbench.signals.models:LSTMModel",
    "transformer": "signalbench.signals.models:TransformerModel",
    "multitask_lstm": "signalbench.signals.models:MultiTaskLSTM",
    "lstm_regressor": "signalbench.signals.models:LSTMRegressor",
    "deeplob": "signalbench.signals.models:DeepLOBModel",
    "majority": "signalbench.signals.baselines:MajorityModel",
    "persistence": "signalbench.signals.baselines:PersistenceModel",
    "logistic": "signalbench.signals.baselines:LogisticModel",
    "ofi_sign": "signalbench.signals.baselines:OFISignModel",
    "lightgbm": "signalbench.signals.baselines:LightGBMModel",
}


class PluginLoadError(ImportError):
    """A signal-model plugin's entry point could not be loaded (the message names the plugin)."""


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=GROUP)
    out: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in eps:
        if ep.name in BUILTINS:
            if ep.value.replace(" ", "") != BUILTINS[ep.name]:
                dist = getattr(getattr(ep, "dist", None), "name", "an unknown distribution")
                warnings.warn(
                    f"ignoring signal-model plugin {ep.name!r} = {ep.value!r} from {dist}: {ep.name!r} is built in",
                    stacklevel=3,
                )
            continue
        out.setdefault(ep.name, ep)
    return out


def available() -> tuple[str, ...]:
    """Names of all signal models: built-ins and installed plugins (nothing is imported).

    Returns
    -------
    tuple of str
        Sorted names.
    """
    return tuple(sorted(set(BUILTINS) | set(_entry_points())))


def _import_target(target: str):
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def get(name: str) -> type:
    """The model class registered under ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`available`.

    Returns
    -------
    type
        A :class:`~signalbench.signals.base.SignalModel` subclass.

    Raises
    ------
    ValueError
        For an unknown name (with the closest names suggested).
    PluginLoadError
        When a plugin's entry point fails to import, or does not point at a ``SignalModel`` subclass.
    """
    from signalbench.signals.base import SignalModel

    if not isinstance(name, str):
        raise ValueError(f"model name must be a string, got {name!r}")
    if name in BUILTINS:
        return _import_target(BUILTINS[name])
    eps = _entry_points()
    if name not in eps:
        names = sorted(set(BUILTINS) | set(eps))
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown signal model {name!r}{hint} Available: {', '.join(names)}")
    ep = eps[name]
    dist = getattr(getattr(ep, "dist", None), "name", None) or "an unknown distribution"
    try:
        cls = ep.load()
    except Exception as exc:
        raise PluginLoadError(
            f"signal-model plugin {name!r} (entry point {ep.value!r} in group {GROUP!r}, from {dist}) failed to "
            f"load: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, SignalModel)):
        raise PluginLoadError(
            f"signal-model plugin {name!r} (entry point {ep.value!r}, from {dist}) is {cls!r}, not a SignalModel "
            "subclass"
        )
    if cls.name != name:
        raise PluginLoadError(
            f"signal-model plugin {name!r} (entry point {ep.value!r}, from {dist}): its class sets "
            f"name = {cls.name!r}; it must equal the entry-point name so that saved models load"
        )
    return cls


def unknown_params_error(owner: str, unknown: list[str], valid: list[str]) -> ValueError:
    """A ``ValueError`` naming unknown hyperparameters, with "did you mean" suggestions.

    Parameters
    ----------
    owner : str
        Model (class or registry) name.
    unknown : list of str
        The names that are not hyperparameters.
    valid : list of str
        The hyperparameters.

    Returns
    -------
    ValueError
    """
    parts = []
    for u in unknown:
        close = difflib.get_close_matches(u, valid, n=1)
        parts.append(f"{u!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ValueError(f"unknown hyperparameter(s) for {owner}: {', '.join(parts)}. Valid: {', '.join(valid)}")


def create(name: str, **params):
    """Create an unfitted signal model by name.

    Parameters
    ----------
    name : str
        A name from :func:`available` (``"lstm"``, ``"transformer"``, ``"majority"``, a plugin, ...).
    **params
        Hyperparameters.

    Returns
    -------
    SignalModel
        The model (call ``fit``).

    Raises
    ------
    ValueError
        For an unknown model or hyperparameter (with suggestions).
    PluginLoadError
        When the plugin fails to load.

    Examples
    --------
    >>> model = create("lstm", seq_len=20, hidden_size=16)
    >>> model.get_params()["hidden_size"]
    16
    """
    cls = get(name)
    valid = cls._param_names()
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise unknown_params_error(repr(name), unknown, valid)
    return cls(**params)
