"""The base of the neural signal models: one ``torch.nn.Module`` built from the hyperparameters.

The network is trained by :func:`signalbench.signals.training.train` (``docs/architecture.md``, "Signal models").

A neural model declares its hyperparameters (its architecture group plus :data:`TRAINING`, :data:`NEURAL` and, for
classifiers, :data:`CLASS_WEIGHT`) and names its :class:`Network`: the configuration dataclass and the module of
:mod:`signalbench.signals.nets`. The configuration is filled from the hyperparameters of the same names, the sizes the
data fixes (``n_features``, ``n_outputs``, ``seq_len``) and the values the model fixes, so there is one way to build a
network from a model, for every model, and a saved model's network is rebuilt the same way (and checked against the
saved configuration and weights).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from signalbench import _validation as v
from signalbench.data.windowing import iter_batches
from signalbench.signals.base import SignalModel, balanced_weights
from signalbench.signals.errors import ModelFileError
from signalbench.signals.onnx import export_onnx, step_graph, window_graph
from signalbench.signals.params import Int, Param, Rule
from signalbench.signals.persistence import SavedModel, check_tensors
from signalbench.signals.stepping import OrtWindow
from signalbench.signals.torch_stepping import TorchWindow
from signalbench.signals.training import (
    TRAINING,
    TrainConfig,
    classification_loss,
    parse_device,
    regression_loss,
    resolve_device,
    train,
)

__all__ = ["CLASS_WEIGHT", "NEURAL", "TRAINING", "Network", "TorchSignalModel"]


def _class_weight(value: Any, name: str) -> Any:
    what = "None, 'balanced' or a list of per-class weights >= 0"
    if value is None or (isinstance(value, str) and value == "balanced"):
        return value
    if isinstance(value, str):
        raise ValueError(v.expected(name, what, value) + v.did_you_mean(value, ["balanced"]))
    if isinstance(value, list | tuple | np.ndarray):
        return [v.number(w, f"{name}[{i}]", low=0.0) for i, w in enumerate(value)]
    raise TypeError(v.expected(name, what, value))


def _device(value: Any, name: str) -> str:
    parse_device(value, name)
    return str(value)  # a torch.device is stored as its name (JSON)


#: Settings every neural model shares beyond the training loop's.
NEURAL: dict[str, Param] = {
    "seed": Param(
        0, Int(minimum=0), "Seeds initialisation, dropout, shuffling and epoch subsets (CPU: identical runs)."
    ),
    "device": Param(
        "auto", Rule(_device, "str"), "'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:1', ..."
    ),
    "predict_batch_size": Param(1024, Int(minimum=1), "Windows per inference batch."),
}

#: Class weights of the classifiers' cross-entropy.
CLASS_WEIGHT: dict[str, Param] = {
    "class_weight": Param(
        None,
        Rule(_class_weight, "None, 'balanced' or list of float"),
        "Cross-entropy weight per class (in the order of classes_); 'balanced': n / (k * count).",
    )
}


@dataclass(frozen=True)
class Network:
    """How a model builds its network.

    Attributes
    ----------
    config : type
        A configuration dataclass of :mod:`signalbench.signals.nets`; its fields are filled by name.
    module : type
        The ``nn.Module`` built from it.
    fixed : mapping
        Configuration values the model fixes (not hyperparameters of that model).
    """

    config: type
    module: type
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def make_config(self, values: Mapping[str, Any]) -> Any:
        """The configuration from ``values`` (the fields it names; the dataclass defaults for the others)."""
        return self.config(**{f.name: values[f.name] for f in fields(self.config) if f.name in values})


class TorchSignalModel(SignalModel):
    """A signal model whose learned state is one ``torch.nn.Module``, trained by :func:`training.train`.

    Subclasses set :attr:`network` and declare their hyperparameters (including :data:`TRAINING` and :data:`NEURAL`).

    Fitting seeds ``torch`` (inside ``torch.random.fork_rng``, leaving the caller's generator alone) before the network
    is built and trained, so two fits with one ``seed`` on the CPU give identical weights. Prediction runs the network
    in ``eval()`` mode under ``torch.inference_mode()``, ``predict_batch_size`` windows at a time, on ``device``
    (``"auto"``: CUDA when available, else CPU), and returns NumPy.
    """

    network: ClassVar[Network]

    # ------------------------------------------------------------------ the network

    def _network_inputs(self) -> dict[str, Any]:
        """Configuration values the data fixes: input width, output width, window length."""
        n_out = len(self.classes_) if self.task == "classification" else 1
        return {"n_features": int(self.n_features_in_), "n_outputs": n_out, "seq_len": self.window}

    def _net_config(self) -> Any:
        return self.network.make_config({**self.get_params(), **self.network.fixed, **self._network_inputs()})

    def _build_network(self, config: Any) -> nn.Module:
        return self.network.module(config)

    def _row_transform(self, n_features: int) -> nn.Module | None:
        """A module that transforms each input row on its own before the scaler (None: none).

        It serves the NumPy path (:meth:`_transform_features`) and the ONNX graph alike, so the two cannot differ.
        """
        return None

    def _transform_features(self, X: np.ndarray) -> np.ndarray:
        module = self._row_transform(X.shape[1])
        if module is None:
            return X
        with torch.inference_mode():
            return module(torch.from_numpy(np.require(X, np.float64, ["C", "W"]))).numpy()

    def _train_config(self) -> TrainConfig:
        return TrainConfig(**{k: getattr(self, k) for k in TRAINING})

    # ------------------------------------------------------------------ targets and loss

    def _class_weights(self, y: np.ndarray, rows: np.ndarray) -> torch.Tensor | None:
        k = len(self.classes_)
        cw = self.class_weight
        if cw is None:
            return None
        if isinstance(cw, str):  # "balanced" (the only string the rule lets through)
            w = balanced_weights(y[rows], k)
        else:
            w = np.asarray(cw, dtype=np.float64)
            if w.shape != (k,):
                raise ValueError(
                    v.expected(
                        "class_weight", f"{k} weights, one per class {self.classes_.tolist()}", len(cw), raw=True
                    )
                )
        return torch.tensor(w, dtype=torch.float32)

    def _criterion(self, y: np.ndarray, rows: np.ndarray):
        if self.task == "classification":
            return classification_loss(self._class_weights(y, rows))
        return regression_loss()

    def _training_targets(self, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Targets as the loss sees them (float32); regressors standardize with the training rows' statistics."""
        if self.task == "regression":
            sd = float(np.std(y[rows]))
            self.target_mean_ = float(np.mean(y[rows]))
            self.target_scale_ = sd if sd > 0 else 1.0
        return self._apply_target_transform(y)

    def _apply_target_transform(self, y: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return ((y - self.target_mean_) / self.target_scale_).astype(np.float32)
        return y.astype(np.float32)

    def _transform_output(self, out: torch.Tensor) -> torch.Tensor:
        """Network output batch -> returned values (softmax for classifiers, unstandardized for regressors)."""
        if self.task == "classification":
            return torch.softmax(out.double(), dim=1)
        return out.double() * self.target_scale_ + self.target_mean_

    # ------------------------------------------------------------------ fit / predict

    def fit_prepared(self, X, y, rows, val, *, callback=None) -> None:
        """See :meth:`SignalModel.fit_prepared`: the training loop of :mod:`signalbench.signals.training`."""
        device = resolve_device(self.device)
        targets = self._training_targets(y, rows)
        criterion = self._criterion(y, rows)
        if val is not None:
            Xv, yv, rows_v = val
            val = (Xv, self._apply_target_transform(yv), rows_v)
        config = self._net_config()
        cuda = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(int(self.seed))
            net = self._build_network(config).to(device)
            history = train(
                net,
                X=X,
                targets=targets,
                rows=rows,
                seq_len=self.window,
                criterion=criterion,
                config=self._train_config(),
                seed=int(self.seed),
                device=device,
                val=val,
                description=self.name,
                callback=callback,
            )
        self.net_ = net.eval()
        self.net_config_ = config
        self.history_ = history
        self.device_ = device

    def predict_prepared(self, X: np.ndarray, start: int) -> np.ndarray:
        """See :meth:`SignalModel.predict_prepared`: the network over windows, in batches, under ``inference_mode``."""
        net = self.net_
        if net.training:  # never the case after fit or load; kept as a guard without mutating the model
            raise RuntimeError("network is in training mode")
        outs = []
        with torch.inference_mode():
            for xb in iter_batches(X, self.window, int(self.predict_batch_size), start=start, device=self.device_):
                outs.append(self._transform_output(net(xb)).cpu().numpy())  # (B, d)
                del xb
        return np.concatenate(outs, axis=0)

    # ------------------------------------------------------------------ state

    def get_learned_state(self) -> tuple[dict, dict]:
        """See :meth:`SignalModel.get_learned_state`: the network config and history, and its ``state_dict``."""
        meta = {"net_config": asdict(self.net_config_), "history": self.history_}
        if hasattr(self, "target_mean_"):
            meta["target"] = {"mean": self.target_mean_, "scale": self.target_scale_}
        return meta, dict(self.net_.state_dict())

    def _check_saved_state(self, saved: SavedModel) -> None:
        """The network the hyperparameters describe must be the saved one, and the weights must fit it."""
        config = asdict(self._net_config())
        stored = (saved.config.get("state") or {}).get("net_config")
        if stored is not None and stored != config:
            diff = {k: stored.get(k) for k in config if stored.get(k) != config[k]}
            raise ModelFileError(
                v.expected(
                    f"{saved.json_path} key 'state.net_config'",
                    f"the network that the saved hyperparameters and sizes describe ({config})",
                    f"{diff}",
                    raw=True,
                    hint="model.json was edited: its 'params' and 'state' disagree",
                )
            )
        net = self._build_network(self._net_config())
        check_tensors(saved.tensors, {k: tuple(t.shape) for k, t in net.state_dict().items()}, saved.weights_path)

    def set_learned_state(self, meta: dict, tensors: dict) -> None:
        """See :meth:`SignalModel.set_learned_state`."""
        config = self._net_config()
        net = self._build_network(config)
        net.load_state_dict(tensors, strict=True)
        # the saved `device` hyperparameter is where it was trained, maybe a GPU this machine lacks: restore on the
        # CPU; signalbench.signals.load(path, device=...) moves it on (_place)
        self.device_ = torch.device("cpu")
        self.net_ = net.eval()
        self.net_config_ = config
        self.history_ = meta.get("history", [])
        if self.task == "regression" or "target" in meta:
            self.target_mean_ = float(meta["target"]["mean"])
            self.target_scale_ = float(meta["target"]["scale"])

    def _place(self, device: torch.device) -> None:
        self.net_ = self.net_.to(device).eval()
        self.device_ = device

    def _step_engine(self, mode: str, backend: str):
        if backend == "torch":
            return TorchWindow(self)
        dtype = np.float32 if self._row_transform(int(self.n_features_in_)) is None else np.float64
        return OrtWindow(self, self._onnx_graph("window"), dtype)

    def _onnx_graph(self, kind: str) -> bytes:
        """The serialized ONNX graph an onnxruntime stepper runs (``"window"`` or ``"step"``), exported once.

        The bytes are cached on the model (``_onnx_graphs``), so every stepper after the first skips the export;
        ``fit`` and ``set_params`` drop the cache (:meth:`_forget_derived`) and a loaded model starts without one.
        """
        cache = self.__dict__.setdefault("_onnx_graphs", {})
        if kind not in cache:
            cache[kind] = window_graph(self) if kind == "window" else step_graph(self)
        return cache[kind]

    def export_onnx(self, path, *, opset: int = 17) -> Path:
        """Export the fitted network, with the input transform, scaling and output transform, to an ONNX file.

        The graph takes raw windows ``(batch, seq_len, F)`` (the rows ``t - seq_len + 1 .. t`` of ``X``, no NaN) and
        returns what :meth:`predict_proba` (classifiers) or :meth:`predict` (regressors) returns for row ``t``. Needs
        the ``onnx`` extra; ``path``, ``opset`` and the result are as in :func:`signalbench.signals.onnx.export_onnx`.
        """
        return export_onnx(self, path, opset=opset)
