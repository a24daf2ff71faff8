"""Signal models: sequence models and baselines that turn features into per-row probabilities.

The public API (``docs/architecture.md``, "Signal models"):

- :func:`create` ``(name, **params)``, :func:`available` ``()``, :func:`get` ``(name)``: models by name, built-in,
  given to :func:`register` ``(name, cls)`` in this process, or from the ``signalbench.signals`` entry-point group
  (plugins load lazily; a failing plugin is named in :class:`PluginLoadError`). Hyperparameters are checked when the
  model is made.
- :class:`SignalModel`: the contract (``fit``, ``predict_proba`` / ``predict``, ``save``), and :func:`load` to bring
  a saved model back (a damaged or mismatched file is a :class:`ModelFileError`). :class:`TorchSignalModel` is the
  base of the neural models.
- :func:`signalbench.signals.checks.check_signal_model`: the conformance suite every model passes.

The modules, one job each: ``base`` (the contract), ``params`` (hyperparameter declarations and rules), ``inputs``
(checks of ``X`` and ``y``), ``persistence`` (the saved-model files), ``registry`` (names, plugins, ``create`` and
``load``), ``torch_model`` (the neural base class), ``nets`` (``nn.Module`` s only), ``training`` (the loop),
``models``, ``lob_models`` and ``baselines`` (the built-ins; ``book_input`` the base of the order-book models,
``lob_nets`` the networks of ``lob_models``), ``checks`` (conformance), ``onnx`` (export), ``stepping`` and
``torch_stepping`` (one row at a time: :meth:`SignalModel.stepper`), ``tbptt`` (stateful training), ``errors``,
``symbol_scaling`` (:class:`SymbolScaler`: per-symbol normalisation before a pooled fit).

Built-in names: ``lstm``, ``transformer``, ``multitask_lstm``, ``lstm_regressor``, ``deeplob``, ``stateful_lstm``,
the order-book architectures ``binctabl``, ``tlob``, ``mlplob``, and the baselines ``majority``, ``persistence``,
``logistic``, ``ofi_sign``, ``lightgbm`` (optional extra).
Everything is imported on first use, so ``import signalbench.signals`` does not import torch.
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

_EXPORTS = {
    "create": "signalbench.signals.registry",
    "available": "signalbench.signals.registry",
    "get": "signalbench.signals.registry",
    "load": "signalbench.signals.registry",
    "register": "signalbench.signals.registry",
    "PluginLoadError": "signalbench.signals.registry",
    "SignalModel": "signalbench.signals.base",
    "TorchSignalModel": "signalbench.signals.torch_model",
    "NotFittedError": "signalbench.signals.errors",
    "ModelFileError": "signalbench.signals.errors",
    "SignalModelWarning": "signalbench.signals.errors",
    "check_signal_model": "signalbench.signals.checks",
    "LSTMModel": "signalbench.signals.models",
    "TransformerModel": "signalbench.signals.models",
    "MultiTaskLSTM": "signalbench.signals.models",
    "LSTMRegressor": "signalbench.signals.models",
    "DeepLOBModel": "signalbench.signals.models",
    "StatefulLSTM": "signalbench.signals.models",
    "BiNCTABLModel": "signalbench.signals.lob_models",
    "TLOBModel": "signalbench.signals.lob_models",
    "MLPLOBModel": "signalbench.signals.lob_models",
    "Stepper": "signalbench.signals.stepping",
    "SymbolScaler": "signalbench.signals.symbol_scaling",
    "MajorityModel": "signalbench.signals.baselines",
    "PersistenceModel": "signalbench.signals.baselines",
    "LogisticModel": "signalbench.signals.baselines",
    "OFISignModel": "signalbench.signals.baselines",
    "LightGBMModel": "signalbench.signals.baselines",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
