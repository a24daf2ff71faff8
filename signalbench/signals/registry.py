"""Signal models by name: the built-ins and third-party plugins, new (:func:`create`) or saved (:func:`load`).

A plugin is a :class:`~signalbench.signals.base.SignalModel` subclass published by any installed distribution under
the ``signalbench.signals`` entry-point group::

    [project.entry-points."signalbench.signals"]
    my_model = "my_package.models:MyModel"

A class can also be registered in-process with :func:`register` (a notebook, a test, a script that defines its
model): it is then found by name like an installed plugin (``create``, ``load``, the conformance suite's save/load
check) for the rest of the process.

Entry points are listed without importing anything; a plugin's module is imported the first time its name is asked
for (``create``, ``get``, ``load``), and an import failure is reported as :class:`PluginLoadError` naming the plugin,
its entry point and the distribution it came from. Built-in names are resolved without entry points; an entry point
with a built-in's name that points elsewhere is ignored (with a warning) so that saved built-in models always load as
themselves. A name registered in-process wins over an entry point of the same name.

:func:`load` lives here, not in :mod:`signalbench.signals.persistence`, because it finds the class by the name saved in
``model.json``: the persistence module reads and checks the files and knows no model class, so the modules import each
other in one direction only (``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings

from signalbench import _validation as v
from signalbench.signals import params as hp
from signalbench.signals.base import SignalModel
from signalbench.signals.devices import load_device
from signalbench.signals.errors import ModelFileError
from signalbench.signals.persistence import read_model

__all__ = ["BUILTINS", "GROUP", "PluginLoadError", "available", "create", "get", "load", "register"]

#: Entry-point group of signal-model plugins.
GROUP = "signalbench.signals"

#: Built-in models: name -> "module:Class" (imported lazily).
BUILTINS: dict[str, str] = {
    "lstm": "signalbench.signals.models:LSTMModel",
    "transformer": "signalbench.signals.models:TransformerModel",
    "multitask_lstm": "signalbench.signals.models:MultiTaskLSTM",
    "lstm_regressor": "signalbench.signals.models:LSTMRegressor",
    "deeplob": "signalbench.signals.models:DeepLOBModel",
    "binctabl": "signalbench.signals.lob_models:BiNCTABLModel",
    "tlob": "signalbench.signals.lob_models:TLOBModel",
    "mlplob": "signalbench.signals.lob_models:MLPLOBModel",
    "stateful_lstm": "signalbench.signals.models:StatefulLSTM",
    "majority": "signalbench.signals.baselines:MajorityModel",
    "persistence": "signalbench.signals.baselines:PersistenceModel",
    "logistic": "signalbench.signals.baselines:LogisticModel",
    "ofi_sign": "signalbench.signals.baselines:OFISignModel",
    "lightgbm": "signalbench.signals.baselines:LightGBMModel",
}

# Classes registered in-process with register(): name -> class.
_REGISTERED: dict[str, type] = {}

# What makes a plugin's name known, for the messages of load and the conformance suite.
HOW_TO_REGISTER = (
    f"register the class in this process with signalbench.signals.register(name, cls), or install its distribution "
    f"with an entry point in group {GROUP!r}"
)


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
    return tuple(sorted(set(BUILTINS) | set(_REGISTERED) | set(_entry_points())))


def register(name: str, cls: type) -> type:
    """Register a model class under ``name`` in this process, as if it were an installed plugin.

    After it, :func:`create`, :func:`get` and :func:`load` (and so
    :func:`~signalbench.signals.checks.check_signal_model`'s save/load check) find ``cls`` by ``name``. Registering a
    name again replaces the class (a notebook cell run twice); a registered name wins over an entry point of that name.
    Nothing is written anywhere: another process needs its own ``register`` or an installed entry point.

    Parameters
    ----------
    name : str
        The model's name; must equal ``cls.name`` (saved models are found by it) and not be a built-in's.
    cls : type
        A :class:`~signalbench.signals.base.SignalModel` subclass.

    Returns
    -------
    type
        ``cls`` (so that ``register`` can be written after the class statement and its result kept).

    Raises
    ------
    TypeError
        When ``name`` is not a string or ``cls`` is not a ``SignalModel`` subclass.
    ValueError
        When ``name`` is a built-in's, or ``cls.name`` differs from ``name``.
    """
    if not isinstance(name, str):
        raise TypeError(v.expected("name", "a signal model name (str)", name))
    if not (isinstance(cls, type) and issubclass(cls, SignalModel)):
        raise TypeError(v.expected("cls", "a SignalModel subclass", cls))
    if name in BUILTINS:
        raise ValueError(v.expected("name", "a name that is not a built-in model's", name, hint="choose another name"))
    if cls.name != name:
        raise ValueError(
            v.expected(
                "name",
                f"the class's name attribute {cls.name!r}",
                name,
                hint=f"set name = {name!r} in {cls.__name__} (saved models are found by it)",
            )
        )
    _REGISTERED[name] = cls
    return cls


def _import_target(target: str):
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _load_plugin(name: str, ep: importlib.metadata.EntryPoint) -> type:
    dist = getattr(getattr(ep, "dist", None), "name", None) or "an unknown distribution"
    what = f"signal-model plugin {name!r} (entry point {ep.value!r} in group {GROUP!r}, from {dist})"
    try:
        cls = ep.load()
    except Exception as exc:
        raise PluginLoadError(f"{what} failed to load: {type(exc).__name__}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, SignalModel)):
        raise PluginLoadError(f"{what} is {cls!r}, not a SignalModel subclass")
    if cls.name != name:
        raise PluginLoadError(
            f"{what}: its class sets name = {cls.name!r}; it must equal the entry-point name so that saved models load"
        )
    return cls


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
    TypeError
        When ``name`` is not a string.
    ValueError
        For an unknown name (with the closest name suggested and the available ones listed).
    PluginLoadError
        When a plugin's entry point fails to import, or does not point at a ``SignalModel`` subclass.
    """
    if not isinstance(name, str):
        raise TypeError(v.expected("name", "a signal model name (str)", name))
    if name in BUILTINS:
        return _import_target(BUILTINS[name])
    if name in _REGISTERED:
        return _REGISTERED[name]
    eps = _entry_points()
    if name not in eps:
        names = sorted(set(BUILTINS) | set(_REGISTERED) | set(eps))
        raise ValueError(
            v.expected("name", f"a signal model name (one of {', '.join(names)})", name) + v.did_you_mean(name, names)
        )
    return _load_plugin(name, eps[name])


def create(name: str, **params) -> SignalModel:
    """Create an unfitted signal model by name; every hyperparameter is checked now, not at ``fit``.

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
        For an unknown model or hyperparameter name (with a "did you mean"), or a hyperparameter's wrong value.
    TypeError
        For a hyperparameter of the wrong kind (``seq_len=1.5``, ``bidirectional="yes"``).
    PluginLoadError
        When the plugin fails to load.

    Examples
    --------
    >>> model = create("lstm", seq_len=20, hidden_size=16)
    >>> model.get_params()["hidden_size"]
    16
    """
    cls = get(name)
    hp.check_names(repr(name), list(params), cls._param_names())
    return cls(**params)


def load(path: str | os.PathLike, *, device=None) -> SignalModel:
    """Rebuild a model saved with :meth:`SignalModel.save <signalbench.signals.base.SignalModel.save>`.

    The model class is found by the name in ``model.json``: a built-in, a class given to :func:`register` in this
    process, or an installed plugin. A save that a crash cut short is
    recovered first (:func:`signalbench._atomic.recover_dir`). A neural model is loaded onto the CPU unless
    ``device`` asks for another, whatever device it was trained on (a model saved with ``device="cuda"`` loads on a
    CPU-only machine); its ``device`` hyperparameter stays as saved (``fit`` uses it), ``device_`` says where it is.

    Parameters
    ----------
    path : str or os.PathLike
        The folder ``save`` wrote.
    device : str, torch.device or None, default None
        Where a neural model's network goes: ``None`` the CPU, ``"auto"`` CUDA when available, else a device this
        machine has (``"cpu"``, ``"cuda"``, ``"cuda:1"``); see :func:`signalbench.signals.devices.load_device`.

    Returns
    -------
    SignalModel
        The fitted model.

    Raises
    ------
    FileNotFoundError
        If the folder or one of its files is missing.
    ModelFileError
        If a file is corrupted or truncated, is not a signalbench model, or the files do not fit together (weights
        of another architecture, hyperparameters edited); the message names the file and key, what was expected and
        what was found.
    ValueError
        If ``device`` names a device this machine does not have (checked before the files are read).
    TypeError
        If ``device`` is not None, a string or a ``torch.device``.
    """
    target = load_device(device)
    saved = read_model(path)
    try:
        cls = get(saved.config["model"])
    except ValueError as exc:
        raise ModelFileError(f"{saved.json_path} key 'model': {exc}; {HOW_TO_REGISTER}") from None
    return cls._from_saved(saved, target)
