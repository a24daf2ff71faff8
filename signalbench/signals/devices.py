"""Devices of the neural models: a ``device`` setting read and checked against this machine.

``"auto"`` means CUDA when this machine has it, else the CPU; ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a
``torch.device`` name one, which must exist here when it is used (a ValueError naming ``device`` otherwise). Training
uses :func:`resolve_device` of the ``device`` hyperparameter; loading a saved model uses :func:`load_device` of the
caller's request, never the device the model was saved from (``docs/architecture.md``, "Signal models"). torch is
imported when a function is called, so that importing this module (from the persistence and registry modules) stays
cheap.
"""

from __future__ import annotations

from typing import Any

from signalbench._validation import expected

__all__ = ["load_device", "parse_device", "resolve_device"]


def resolve_device(device) -> Any:
    """``"auto"`` -> CUDA when available, else CPU; anything else as ``torch.device``.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        For anything but a string or a ``torch.device``.
    ValueError
        For a string torch does not read as a device, or a CUDA device on a machine without CUDA.
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = parse_device(device, "device")
    what = "'auto', 'cpu' or a device this machine has"
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(expected("device", what, device, hint="no CUDA here"))
    if dev.type == "cuda" and (dev.index or 0) >= torch.cuda.device_count():
        raise ValueError(expected("device", what, device, hint=f"{torch.cuda.device_count()} CUDA device(s) here"))
    return dev


def parse_device(device, name: str) -> Any:
    """``device`` as a ``torch.device`` without asking whether the machine has it (``"auto"``: the CPU)."""
    import torch

    what = "'auto', 'cpu', 'cuda', 'cuda:<index>' or a torch.device"
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(expected(name, what, device))
    if device == "auto":
        return torch.device("cpu")
    try:
        return torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(expected(name, what, device)) from None


def load_device(device: Any = None) -> Any:
    """The ``torch.device`` a saved model is loaded onto: the CPU unless ``device`` asks for another.

    The device a model was trained on is never re-used by itself: a model saved on a GPU machine loads on a CPU-only
    one (the weights are read with ``map_location="cpu"``), and its ``device`` hyperparameter is kept as saved
    (``docs/architecture.md``, "Signal models").

    Parameters
    ----------
    device : str, torch.device or None, default None
        ``None``: the CPU. ``"auto"``: CUDA when available, else the CPU. ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...:
        that device, which this machine must have.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        For anything but None, a string or a ``torch.device``.
    ValueError
        For a string torch does not read as a device, or a device this machine does not have; the message names
        ``device``.
    """
    import torch

    return torch.device("cpu") if device is None else resolve_device(device)
