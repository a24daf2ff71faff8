"""Data: loaders (LOBSTER, OHLCV bars), synthetic ticks, causal features, labels, windows and honest splits.

Names are imported lazily so that ``import signalbench.data`` stays light (no Numba or torch until used). No name
exported here is also the name of a submodule (the window functions live in ``windowing``), so an import of any
submodule never replaces an exported function by a module.
"""

from __future__ import annotations

from signalbench._lazy import lazy_exports

_MODULES = {
    "signalbench.data._errors": ["DataFormatError"],
    "signalbench.data.lobster": ["load_lobster", "LobsterFormatError"],
    "signalbench.data.bars": ["load_bars", "BarsFormatError"],
    "signalbench.data.synthetic": ["synthetic_ticks", "SyntheticTicks"],
    "signalbench.data.features": [
        "compute_features",
        "feature_set",
        "available_feature_sets",
        "FeatureSet",
        "OnlineFeatures",
        "mid_price",
        "spread_bps",
        "half_spread_bps",
    ],
    "signalbench.data.labels": [
        "direction",
        "smoothed_direction",
        "forward_change",
        "smoothed_change",
        "fit_stationary_threshold",
        "forward_log_return",
        "spread_change",
        "DOWN",
        "STATIONARY",
        "UP",
    ],
    "signalbench.data.pieces": ["Piece", "PieceData", "discover", "load_piece"],
    "signalbench.data.windowing": ["windows", "iter_batches", "window_rows"],
    "signalbench.data.splits": [
        "train_val_test_split",
        "walk_forward_splits",
        "purged_kfold",
        "usable_rows",
        "with_context",
        "Split",
        "PartWithContext",
    ],
}
# public name -> module that defines it
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
