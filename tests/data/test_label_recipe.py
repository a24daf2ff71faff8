"""One label recipe (signalbench.data.labels.make_labels): the experiment's labels and streaming's realised labels.

Both orchestrators call the recipe, so on the same prices, the same kind, horizon and threshold (given, fitted as a
quantile on the same rows, or the default) they give the same labels; a test that fails if either side changes.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from signalbench.data.labels import make_labels
from signalbench.experiment.config import Labels
from signalbench.experiment.inputs import labels_for
from signalbench.streaming.realised import LabelSpec, realised_labels


def _book(seed: int = 4, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    ticks = np.cumsum(rng.choice([-1, 0, 0, 1], size=n))
    mid = 100.0 + 0.01 * ticks
    day = np.repeat([0, 1], n // 2)
    frame = pd.DataFrame({"ask_price_1": mid + 0.005, "bid_price_1": mid - 0.005, "day": day})
    return frame, day


CASES = [
    ("direction", 1, {}),
    ("direction", 3, {"threshold": 2e-4}),
    ("direction", 2, {"stationary_quantile": 0.4}),
    ("smoothed_direction", 5, {}),
    ("smoothed_direction", 4, {"threshold": 5e-5}),
    ("smoothed_direction", 6, {"stationary_quantile": 1 / 3}),
]


@pytest.mark.parametrize(("kind", "horizon", "band"), CASES)
def test_streaming_and_the_experiment_label_the_same_prices_alike(kind, horizon, band):
    frame, day = _book()
    spec = Labels(kind=kind, horizon=horizon, **band)
    streamed = LabelSpec(kind, horizon, band.get("threshold"), band.get("stationary_quantile"))
    if streamed.threshold is None and streamed.quantile is None:  # what label_spec gives without a band
        streamed = LabelSpec(kind, horizon, 0.0 if kind == "direction" else 2e-5)
    got, info = realised_labels(frame, streamed, np.arange(len(frame)))
    first, last = info.get("threshold_fit_on", (0, 99))  # streaming's fit rows, when it fitted the band
    fit_on = np.arange(first, last + 1)
    mid = (frame["ask_price_1"] + frame["bid_price_1"]) / 2
    inputs = SimpleNamespace(price=pd.Series(mid.to_numpy()), groups=day)
    want, recorded = labels_for(SimpleNamespace(labels=spec), inputs, fit_on)
    np.testing.assert_array_equal(got, want)
    assert info["threshold"] == recorded["threshold"]
    assert np.isnan(got[299]) and np.isfinite(got[300])  # no label crosses the day
    assert set(np.unique(got[np.isfinite(got)])) <= {0.0, 1.0, 2.0}


def test_the_recipe_against_an_independent_direction():
    frame, day = _book(seed=9)
    mid = ((frame["ask_price_1"] + frame["bid_price_1"]) / 2).to_numpy()
    y, band = make_labels(mid, "direction", 2, threshold=1e-4, groups=day)
    change = np.full(mid.size, np.nan)
    for d in (0, 1):
        idx = np.flatnonzero(day == d)
        change[idx[:-2]] = mid[idx[2:]] / mid[idx[:-2]] - 1
    want = np.where(np.isnan(change), np.nan, np.where(change > 1e-4, 2.0, np.where(change < -1e-4, 0.0, 1.0)))
    np.testing.assert_array_equal(y, want)
    assert band == 1e-4


def test_a_quantile_without_its_rows_is_refused():
    with pytest.raises(ValueError, match="fit_rows: expected the rows to fit the stationary quantile on"):
        make_labels(np.linspace(100, 101, 50), "direction", 1, quantile=0.3)
