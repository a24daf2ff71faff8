"""Per-event model steps: one raw feature row in, the row's prediction out (``docs/architecture.md``, "Model steps").

:meth:`SignalModel.stepper <signalbench.signals.base.SignalModel.stepper>` makes a :class:`Stepper`, the streaming
form of ``predict_proba``: stepping the rows of ``X`` in order (calling :meth:`Stepper.reset` where a new day starts)
gives ``model.predict_proba(X)`` row for row, to 1e-5, NaN where it is NaN.

Two modes, named in :attr:`Stepper.mode`:

- ``"window"`` (every model with a window, neural or not): a ring buffer of the last ``seq_len`` raw rows (stored twice
  over, so the window is always one contiguous slice) and the count of consecutive finite rows. A row gets a prediction
  when that count reaches ``seq_len`` (the window is complete and finite, as in ``predict_proba``); otherwise the
  output is all NaN. The window is transformed and scaled exactly as ``predict`` does (the model's per-row transform,
  then ``(x - mean) / scale`` in float64, then float32) and run through the network.
- ``"stateful"`` (only :class:`~signalbench.signals.models.StatefulLSTM`): the LSTM's ``(h, c)`` carried from row to
  row, one step per row. A non-finite row outputs NaN and resets the state to zero, as ``predict_proba`` does.

Two backends, named in :attr:`Stepper.backend`: ``"torch"`` (the model's own network under
``torch.inference_mode``; models without a network predict their window with their own ``predict_proba``) and
``"onnxruntime"`` (the ``onnx`` extra): the window graph of :func:`signalbench.signals.onnx.window_graph` or the
single-step graph of :func:`signalbench.signals.onnx.step_graph`, built in memory when the stepper is made, run by one
cached ``InferenceSession`` (one intra-op thread, sequential execution) on preallocated inputs bound once.

:meth:`Stepper.get_state` / :meth:`Stepper.set_state` checkpoint the whole state (the ring and run count, or
``(h, c)``) as NumPy arrays: restoring a state and stepping on gives what never stopping gives, bit for bit, and a
state is the same for both backends.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from signalbench import _validation as v

__all__ = ["BACKENDS", "MODES", "Stepper", "make_stepper"]

MODES = ("window", "stateful")
BACKENDS = ("torch", "onnxruntime")


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(
            "backend='onnxruntime' needs the onnx extra (onnx, onnxruntime): pip install 'signalbench[onnx]'"
        ) from exc
    return onnxruntime


def ort_session(graph: bytes):
    """An onnxruntime CPU session for ``graph``: one intra-op thread, sequential execution, all optimizations."""
    ort = _require_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])


def make_stepper(model, mode: str = "window", backend: str = "torch") -> Stepper:
    """The :class:`Stepper` of a fitted model (what ``model.stepper(mode, backend)`` returns).

    Parameters
    ----------
    model : SignalModel
        A fitted model.
    mode : {"window", "stateful"}
        ``"stateful"`` only for models that carry a recurrent state (``stateful_lstm``).
    backend : {"torch", "onnxruntime"}
        Where the network runs.

    Returns
    -------
    Stepper

    Raises
    ------
    ValueError
        For an unknown ``mode`` or ``backend``, ``"stateful"`` asked of a window model (or ``"window"`` of a stateful
        one), or ``"onnxruntime"`` asked of a model without a network.
    ImportError
        For ``"onnxruntime"`` without the ``onnx`` extra.
    NotFittedError
        Before ``fit``.
    """
    mode = v.choice(mode, "mode", MODES)
    backend = v.choice(backend, "backend", BACKENDS)
    model._check_fitted()
    stateful = bool(getattr(model, "stateful", False))
    if mode == "stateful" and not stateful:
        raise ValueError(
            v.expected(
                "mode",
                f"'window' for a {model.name!r} model (it has no recurrent state to carry)",
                mode,
                hint="'stateful' is for models trained in that mode, such as 'stateful_lstm'",
            )
        )
    if mode == "window" and stateful:
        raise ValueError(
            v.expected("mode", f"'stateful' for a {model.name!r} model (it has no window: its state is the context)",
                       mode)
        )  # fmt: skip
    if backend == "onnxruntime":
        if not hasattr(model, "net_"):
            raise ValueError(
                v.expected("backend", f"'torch' for a {model.name!r} model (it has no network to export)", backend)
            )
        _require_onnxruntime()
    engine = model._step_engine(mode, backend)
    return Stepper(model, mode, backend, engine)


class Stepper:
    """A fitted model's prediction, one raw feature row at a time (see the module docstring).

    Attributes
    ----------
    mode : {"window", "stateful"}
    backend : {"torch", "onnxruntime"}
    classes : tuple of int
        The model's classes, in the order of the probabilities (empty for a regressor, whose step returns its one
        predicted value).
    feature_names : tuple of str or None
        The model's features, in order (None when it was fitted on an array).
    n_features : int
        Length of a row.
    window : int
        Rows a prediction reads (``seq_len``; 1 in stateful mode, where the state holds the past).
    """

    def __init__(self, model, mode: str, backend: str, engine):
        self.mode = mode
        self.backend = backend
        self.model_name = model.name
        self.classes = tuple(int(c) for c in model.classes_) if model.task == "classification" else ()
        names = model.feature_names_in_
        self.feature_names = None if names is None else tuple(names)
        self.n_features = int(model.n_features_in_)
        self.window = int(model.window) if mode == "window" else 1
        self._engine = engine
        self._nan = np.full(max(len(self.classes), 1), np.nan)
        L, F = self.window, self.n_features
        self._ring = np.zeros((2 * L, F))  # row i lives at i % L and i % L + L: the window is ring[pos : pos + L]
        self._pos = 0  # where the next row goes (mod L); the window of the newest row starts at ring[pos]
        self._run = 0  # consecutive finite rows ending at the newest one (capped at L)
        self._problem = model._row_problem()  # the model's check of one raw row (None: none)
        self._rows = 0  # rows stepped since the last reset (for messages)

    def __repr__(self) -> str:
        return f"Stepper(model={self.model_name!r}, mode={self.mode!r}, backend={self.backend!r})"

    def _row(self, x: Any) -> np.ndarray:
        if type(x) is not np.ndarray or x.dtype != np.float64:
            try:
                x = np.asarray(x, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(v.expected("x", f"a row of {self.n_features} numbers (float64)", x)) from None
        if x.shape != (self.n_features,):
            raise ValueError(
                v.expected("x", f"a 1-D row of {self.n_features} features (the model's)", f"shape {x.shape}", raw=True)
            )
        return x

    def step(self, x) -> np.ndarray:
        """The prediction for one raw (unscaled) feature row, given every row stepped since the last reset.

        Parameters
        ----------
        x : numpy.ndarray
            ``(n_features,)`` float64 row in :attr:`feature_names` order; NaN marks a missing value (warm-up).

        Returns
        -------
        numpy.ndarray
            ``(len(classes),)`` float64 probabilities (``(1,)`` for a regressor), all NaN where ``predict_proba`` is
            NaN: an incomplete window or one holding a NaN (window mode), a non-finite row (stateful mode). A new
            array every call.

        Raises
        ------
        TypeError
            When ``x`` is not numeric.
        ValueError
            For a row of the wrong length or with an infinite value, or a row the model rejects (DeepLOB: a mid
            <= 0), named ``x`` at its row (counted from 0 since the last reset); the state is left as it was.
        """
        x = self._row(x)
        total = float(np.add.reduce(x))
        finite = total - total == 0.0 or bool(np.isfinite(x).all())  # the sum is finite unless a value is not
        if not finite and np.isinf(x).any():
            col = int(np.flatnonzero(np.isinf(x))[0])
            name = self.feature_names[col] if self.feature_names else col
            raise ValueError(
                v.expected("x", "no infinite values", float(x[col]), at=f"feature {name!r}", raw=True,
                           hint="only NaN marks a missing value")
            )  # fmt: skip
        if self._problem is not None:
            self._check_row(x, "x", f"row {self._rows} stepped since the last reset")
        self._rows += 1
        if self.mode == "stateful":
            if not finite:
                self._engine.reset()
                return self._nan.copy()
            return self._engine.step(x)
        return self._window_step(x, finite)

    def _check_row(self, x: np.ndarray, name: str, at: str) -> None:
        found = self._problem(x)
        if found is not None:
            raise ValueError(v.expected(name, found[0], found[1], at=at, raw=True))

    def _window_step(self, x: np.ndarray, finite: bool) -> np.ndarray:
        L, pos = self.window, self._pos
        self._ring[pos] = x
        self._ring[pos + L] = x
        self._pos = pos = (pos + 1) % L
        self._run = min(self._run + 1, L) if finite else 0
        if self._run < L:
            return self._nan.copy()
        return self._engine.predict(self._ring[pos : pos + L])

    def reset(self) -> None:
        """Forget every row stepped so far: the start of a new group (day)."""
        self._ring[:] = 0.0
        self._pos = 0
        self._run = 0
        self._rows = 0
        self._engine.reset()

    def get_state(self) -> dict[str, np.ndarray]:
        """A copy of the whole state: ``set_state`` of it, then stepping on, equals never stopping (bit for bit).

        Returns
        -------
        dict of str to numpy.ndarray
            Window mode: ``rows`` (the last ``window`` raw rows, oldest first) and ``run`` (consecutive finite rows,
            capped at ``window``); stateful mode: ``h`` and ``c`` (``(num_layers, hidden_size)`` float32).
        """
        if self.mode == "stateful":
            return self._engine.get_state()
        L = self.window
        return {"rows": self._ring[self._pos : self._pos + L].copy(), "run": np.array(self._run, dtype=np.int64)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore a state from :meth:`get_state` (of a stepper of the same model and mode).

        Raises
        ------
        TypeError
            When ``state`` is not a dict.
        ValueError
            For missing keys or arrays of another shape.
        """
        if not isinstance(state, dict):
            raise TypeError(v.expected("state", "a dict from Stepper.get_state()", state))
        if self.mode == "stateful":
            self._engine.set_state(state)
            return
        rows = _state_array(state, "rows", (self.window, self.n_features), np.float64)
        run = int(_state_array(state, "run", (), np.int64))
        if not 0 <= run <= self.window:
            raise ValueError(v.expected("state['run']", f"an integer in [0, {self.window}]", run))
        if self._problem is not None:
            for i, row in enumerate(rows):
                self._check_row(row, "state['rows']", f"row {i}")
        self._ring[: self.window] = rows
        self._ring[self.window :] = rows
        self._pos = 0
        self._run = run


def _state_array(state: dict, key: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """``state[key]`` as an array of ``shape`` and ``dtype`` (a copy), or a ValueError naming the key."""
    if key not in state:
        raise ValueError(v.expected("state", f"a key {key!r} (from Stepper.get_state())", sorted(state), raw=True))
    arr = np.array(state[key], dtype=dtype)
    if arr.shape != shape:
        raise ValueError(v.expected(f"state[{key!r}]", f"an array of shape {shape}", f"shape {arr.shape}", raw=True))
    return arr


# ---------------------------------------------------------------------------------------------------------------------
# Engines: what runs the network on a valid window / one finite row
# ---------------------------------------------------------------------------------------------------------------------


def prepare_rows(model, rows: np.ndarray) -> np.ndarray:
    """Rows as ``predict`` feeds them to the network: per-row transform, then scaling in float64, then float32."""
    rows = model._transform_features(rows)
    if model.scaler_mean_ is not None:
        rows = (rows - model.scaler_mean_) / model.scaler_scale_
    return rows.astype(np.float32)


class ModelWindow:
    """Window engine of a model without a network: its own ``predict_proba`` (``predict``) on the window."""

    def __init__(self, model):
        self.model = model

    def predict(self, window: np.ndarray) -> np.ndarray:
        """The output of the window's last row (its rows oldest first)."""
        if self.model.task == "classification":
            return np.array(self.model.predict_proba(window)[-1], dtype=np.float64)
        return np.array(self.model.predict(window)[-1:], dtype=np.float64)

    def reset(self) -> None:
        """Nothing to forget (the window is the state)."""


class OrtWindow:
    """Window engine on onnxruntime: the window graph on a preallocated ``(1, seq_len, F)`` input."""

    def __init__(self, model, graph: bytes, input_dtype: np.dtype):
        self.session = ort_session(graph)
        self.input = np.zeros((1, int(model.window), int(model.n_features_in_)), dtype=input_dtype)
        self.k = len(model.classes_) if model.task == "classification" else 1
        self.feeds = {"windows": self.input}

    def predict(self, window: np.ndarray) -> np.ndarray:
        """The output of the window's last row."""
        self.input[0] = window
        out = self.session.run(None, self.feeds)[0]
        return out[0, : self.k].astype(np.float64)

    def reset(self) -> None:
        """Nothing to forget (the window is the state)."""


def state_tensors_shape(model) -> tuple[int, int]:
    """``(num_layers, hidden_size)`` of a stateful model's ``h`` and ``c``."""
    return int(model.num_layers), int(model.hidden_size)


def check_state(state: dict, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``state['h']`` and ``state['c']`` as float32 arrays of ``shape`` (ValueError naming the key otherwise)."""
    h = _state_array(state, "h", shape, np.float32)
    c = _state_array(state, "c", shape, np.float32)
    if not (np.isfinite(h).all() and np.isfinite(c).all()):
        raise ValueError(v.expected("state", "finite 'h' and 'c'", "non-finite values", raw=True))
    return h, c


class OrtStateful:
    """Stateful engine on onnxruntime: the single-step graph, ``(h, c)`` fed back through bound buffers."""

    def __init__(self, model, graph: bytes):
        ort = _require_onnxruntime()
        self.session = ort_session(graph)
        L, H = state_tensors_shape(model)
        F = int(model.n_features_in_)
        self.k = len(model.classes_)
        self.x = np.zeros((1, F), dtype=np.float64)
        # two (h, c) pairs: the step reads one and writes the other, then they swap (no copy, no allocation)
        self.hc = [np.zeros((2, L, 1, H), dtype=np.float32), np.zeros((2, L, 1, H), dtype=np.float32)]
        self.probs = np.zeros((1, self.k), dtype=np.float64)
        self.cur = 0
        self.bindings = [self._binding(ort, i) for i in (0, 1)]

    def _binding(self, ort, i: int):
        src, dst = self.hc[i], self.hc[1 - i]
        b = self.session.io_binding()
        b.bind_cpu_input("x", self.x)
        b.bind_cpu_input("h", src[0])
        b.bind_cpu_input("c", src[1])
        for name, arr in (("probabilities", self.probs), ("h_out", dst[0]), ("c_out", dst[1])):
            b.bind_ortvalue_output(name, ort.OrtValue.ortvalue_from_numpy(arr))
        return b

    def step(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of one finite raw row; advances ``(h, c)``."""
        self.x[0] = x
        self.session.run_with_iobinding(self.bindings[self.cur])
        self.cur = 1 - self.cur
        return self.probs[0].copy()

    def reset(self) -> None:
        """Zero state."""
        self.hc[self.cur][:] = 0.0

    def get_state(self) -> dict[str, np.ndarray]:
        """``h`` and ``c`` as ``(num_layers, hidden_size)`` float32 copies."""
        hc = self.hc[self.cur]
        return {"h": hc[0, :, 0].copy(), "c": hc[1, :, 0].copy()}

    def set_state(self, state: dict) -> None:
        """Restore ``h`` and ``c``."""
        h, c = check_state(state, self.hc[0].shape[1::2])
        self.hc[self.cur][0, :, 0] = h
        self.hc[self.cur][1, :, 0] = c
