"""ONNX export of the neural signal models (the optional ``onnx`` extra: onnx, onnxruntime, onnxscript).

**The window graph** (:func:`export_onnx`, :func:`window_graph`; every neural model). The exported graph is the
whole per-window computation: raw features ``(batch, seq_len, F)`` in, float32 (float64 for a model with a per-row
input transform; the metadata key ``input_dtype`` says which), then feature scaling, the network and the output
transform (softmax for classifiers, the target's units for regressors; the multi-task model
returns the direction probabilities followed by the auxiliary forecast), float32 out. The batch axis is dynamic. A
model's per-row input transform (DeepLOB's mid-relative prices) is the same ``nn.Module`` in the graph as in
``predict``. Feature names, classes, ``seq_len`` and the model name are stored in the file's metadata. Export uses
``torch.onnx.export(..., dynamo=False)`` (the TorchScript exporter, which handles ``nn.LSTM`` directly); the file is
written atomically (:func:`signalbench._atomic.write_bytes`); :func:`window_graph` returns the same graph as bytes
(the window mode of :mod:`signalbench.signals.stepping` runs it without a file).

**The single-step graph** (:func:`export_onnx_step`, :func:`step_graph`; stateful models, ``stateful_lstm``). One
step of the recurrence, batch 1, no dynamic axes:

- inputs ``x`` ``(1, F)`` float64, one raw (unscaled) finite feature row in the model's feature order; ``h`` and
  ``c`` ``(num_layers, 1, hidden_size)`` float32, the state after the previous row (zeros at the start of a run);
- inside: ``(x - mean) / scale`` in float64 with the training scaler, cast to float32 (exactly ``predict``'s
  preparation), the LSTM on the ``(1, 1, F)`` row from ``(h, c)``, the linear head on ``h_t``, softmax in float64;
- outputs ``probabilities`` ``(1, k)`` float64 (columns in the order of ``classes``), ``h_out`` and ``c_out``, the
  state to feed with the next row.

A non-finite row is not fed: the caller outputs NaN and restarts from zero state, as ``predict_proba`` does. The
metadata adds ``graph = "step"`` and ``state_shape``.
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path

import torch
from torch import nn

from signalbench import __version__
from signalbench import _validation as v
from signalbench._atomic import write_bytes, write_error

__all__ = ["export_onnx", "export_onnx_step", "step_graph", "window_graph"]


def _require_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("ONNX export needs the onnx extra: pip install 'signalbench[onnx]'") from exc
    return onnx


def _wrapper(model):
    mean = model.scaler_mean_
    scale = model.scaler_scale_
    rows = model._row_transform(int(model.n_features_in_))

    class _Exported(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = copy.deepcopy(model.net_).to("cpu")  # a copy: exporting never moves or changes the model
            self.rows = rows if rows is not None else nn.Identity()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

        def forward(self, x):  # (B, L, F) raw features
            z = (self.rows(x).float() - self.mean) / self.scale  # (B, L, F) transformed and scaled as in predict
            out = self.net(z)  # (B, d) logits / values
            if model.task == "regression":
                return out * model.target_scale_ + model.target_mean_  # (B, 1)
            k = len(model.classes_)
            probs = torch.softmax(out[:, :k], dim=1)  # (B, k)
            if out.shape[1] > k:  # multi-task: append the auxiliary forecast in its units
                return torch.cat([probs, out[:, k:] * model.target_scale_ + model.target_mean_], dim=1)
            return probs

    return _Exported().eval()


def export_onnx(model, path, *, opset: int = 17) -> Path:
    """Export a fitted :class:`~signalbench.signals.base.TorchSignalModel` to ONNX.

    Parameters
    ----------
    model : TorchSignalModel
        A fitted neural model.
    path : str or os.PathLike
        Output file; written to a temporary file in the same folder, then renamed.
    opset : int, default 17
        ONNX opset.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ImportError
        Without the ``onnx`` extra.
    NotFittedError
        Before ``fit``.
    OSError
        When the file cannot be written (a full disk, a file too large): the message names ``path`` and says that
        the old file there (if any) is intact.
    """
    return _write(path, window_graph(model, opset=opset))


def window_graph(model, *, opset: int = 17) -> bytes:
    """The serialized window graph of :func:`export_onnx` (raw windows in, outputs of their last rows out)."""
    onnx = _require_onnx()
    _check_exportable(model)
    wrapper = _wrapper(model)
    F, L = int(model.n_features_in_), int(model.window)
    # float64 input where a row transform takes differences of nearby prices (float32 would round them first)
    dtype = torch.float32 if model._row_transform(F) is None else torch.float64
    example = (torch.zeros(2, L, F, dtype=dtype),)
    axes = {"windows": {0: "batch"}, "output": {0: "batch"}}
    raw = _trace(wrapper, example, ["windows"], ["output"], axes, opset)
    return _with_metadata(onnx, raw, _metadata(model, L, dtype))


def export_onnx_step(model, path, *, opset: int = 17) -> Path:
    """Export the single-step graph of a fitted stateful model (``stateful_lstm``) to an ONNX file, atomically.

    Parameters
    ----------
    model : StatefulLSTM
        A fitted stateful model.
    path : str or os.PathLike
        Output file; written to a temporary file in the same folder, then renamed.
    opset : int, default 17
        ONNX opset.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ImportError
        Without the ``onnx`` extra.
    ValueError
        For a model that is not stateful (the message names ``model``).
    OSError
        When the file cannot be written (as :func:`export_onnx`).
    """
    return _write(path, step_graph(model, opset=opset))


def step_graph(model, *, opset: int = 17) -> bytes:
    """The serialized single-step graph: ``x`` (1, F) float64 raw, ``h``, ``c`` in; probabilities, ``h``, ``c`` out."""
    onnx = _require_onnx()
    _check_exportable(model)
    if not getattr(model, "stateful", False):
        raise ValueError(v.expected("model", "a stateful model (such as 'stateful_lstm')", model))
    layers, hidden = int(model.num_layers), int(model.hidden_size)
    F = int(model.n_features_in_)
    state = torch.zeros(layers, 1, hidden)
    example = (torch.zeros(1, F, dtype=torch.float64), state, state.clone())
    raw = _trace(_step_wrapper(model), example, ["x", "h", "c"], ["probabilities", "h_out", "c_out"], None, opset)
    meta = {**_metadata(model, 1, torch.float64), "graph": "step", "state_shape": json.dumps([layers, 1, hidden])}
    return _with_metadata(onnx, raw, meta)


def _layer_lstms(lstm: nn.LSTM) -> nn.ModuleList:
    """One single-layer, sequence-first ``nn.LSTM`` per layer of ``lstm``, holding that layer's weights (copies)."""
    layers = nn.ModuleList()
    for k in range(lstm.num_layers):
        layer = nn.LSTM(lstm.input_size if k == 0 else lstm.hidden_size, lstm.hidden_size, 1)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(layer, f"{name}_l0").copy_(getattr(lstm, f"{name}_l{k}").detach().cpu())
        layers.append(layer)
    return layers


def _step_wrapper(model) -> nn.Module:
    class _Step(nn.Module):
        # The stacked LSTM as one single-layer LSTM per layer on a sequence-first (1, 1, F) row: the graph then
        # splits h and c once and has no transposes or slices (a shorter graph: about 1 us less per step).
        def __init__(self):
            super().__init__()
            self.layers = _layer_lstms(model.net_.lstm)  # copies: exporting never moves or changes the model
            self.head = copy.deepcopy(model.net_.head).to("cpu")
            self.register_buffer("mean", torch.tensor(model.scaler_mean_, dtype=torch.float64))
            self.register_buffer("scale", torch.tensor(model.scaler_scale_, dtype=torch.float64))

        def forward(self, x, h, c):  # (1, F) float64 raw row, (layers, 1, H) float32 state
            z = ((x - self.mean) / self.scale).float().unsqueeze(0)  # (1, 1, F) scaled as in predict
            h_in, c_in = h.split(1), c.split(1)
            h_out, c_out = [], []
            for k, layer in enumerate(self.layers):
                z, (h_k, c_k) = layer(z, (h_in[k], c_in[k]))  # (1, 1, H)
                h_out.append(h_k)
                c_out.append(c_k)
            probs = torch.softmax(self.head(z[0]).double(), dim=1)  # (1, k) float64
            return probs, torch.cat(h_out), torch.cat(c_out)

    return _Step().eval()


def _check_exportable(model) -> None:
    model._check_fitted()
    if model.scaler_mean_ is None:
        raise ValueError(v.expected("model", "a fitted neural model (one with a feature scaler)", model))


def _trace(wrapper: nn.Module, example: tuple, inputs: list[str], outputs: list[str], axes, opset: int) -> bytes:
    """``torch.onnx.export(..., dynamo=False)`` of ``wrapper`` into memory."""
    buffer = io.BytesIO()
    # Grad mode on: the Transformer layers then take their exportable (not fused) path. Warnings silenced: the
    # exporter's deprecation notice, tracer notes on shape arithmetic and its advice on LSTMs with a dynamic
    # batch (the export is checked against torch in the tests).
    with torch.inference_mode(False), torch.enable_grad(), warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r".*(legacy TorchScript|will be removed|trace might not generalize|trace to be incorrect"
            r"|batch_size other than 1).*",
        )
        torch.onnx.export(
            wrapper,
            example,
            buffer,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=int(opset),
            dynamo=False,
        )
    return buffer.getvalue()


def _with_metadata(onnx, raw: bytes, metadata: dict[str, str]) -> bytes:
    proto = onnx.load_from_string(raw)
    for k, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, value
    return proto.SerializeToString()


def _write(path, graph: bytes) -> Path:
    path = Path(path)
    existed = path.exists()
    try:
        write_bytes(path, graph)
    except OSError as exc:  # a full disk, a file too large for the file system: the old file is intact
        raise write_error(path, exc, existed) from exc
    return path


def _metadata(model, seq_len: int, dtype: torch.dtype) -> dict[str, str]:
    return {
        "input_dtype": str(dtype).removeprefix("torch."),
        "signalbench_model": model.name,
        "signalbench_version": __version__,
        "seq_len": str(seq_len),
        "feature_names": json.dumps(model.feature_names_in_),
        "classes": json.dumps(model._classes_json()),
        "output": "probabilities" if model.task == "classification" else "prediction",
    }
