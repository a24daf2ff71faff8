"""SymbolScaler: per-symbol z-scores fitted on training rows only, applied to other rows, saved and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from signalbench.signals import SymbolScaler, create


def _symbol(seed: int, level: float, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"price": level + level * 0.01 * rng.standard_normal(n), "size": level * rng.gamma(2.0, 1.0, n)}
    )
    frame.iloc[:5] = np.nan  # the features' warm-up
    return frame


def test_each_symbol_has_mean_0_std_1_on_its_training_rows():
    amzn, goog = _symbol(1, 220.0), _symbol(2, 580.0)
    train = slice(0, 200)
    scaler = SymbolScaler().fit([("AMZN", amzn.iloc[train]), ("GOOG", goog.iloc[train])])
    for symbol, frame in (("AMZN", amzn), ("GOOG", goog)):
        z = scaler.transform(frame, symbol).iloc[train].dropna()
        assert np.allclose(z.mean(), 0.0, atol=1e-12)
        assert np.allclose(z.std(ddof=0), 1.0, atol=1e-12)
        assert z.index.equals(frame.iloc[train].dropna().index)
    # one scaler over the concatenation (the old pooled fit) would put AMZN's prices far below 0
    both = pd.concat([amzn.iloc[train], goog.iloc[train]])
    assert ((amzn["price"].iloc[train] - both["price"].mean()) / both["price"].std()).mean() < -0.9


def test_several_days_of_one_symbol_are_pooled():
    day1, day2 = _symbol(1, 220.0).iloc[5:], _symbol(3, 230.0).iloc[5:]
    scaler = SymbolScaler().fit([("AMZN", day1), ("AMZN", day2)])
    both = pd.concat([day1, day2])
    assert np.allclose(scaler.mean_["AMZN"], both.mean().to_numpy())
    assert np.allclose(scaler.std_["AMZN"], both.std(ddof=0).to_numpy())
    assert scaler.rows_["AMZN"] == len(both)


def test_rows_after_training_do_not_change_the_statistics():
    frame = _symbol(4, 220.0)
    train = frame.iloc[:200]
    before = SymbolScaler().fit([("AMZN", train)]).transform(frame, "AMZN")
    changed = frame.copy()
    changed.iloc[250] = [1e6, -1e6]  # a tested row
    after = SymbolScaler().fit([("AMZN", changed.iloc[:200])]).transform(changed, "AMZN")
    assert np.allclose(before.iloc[:250], after.iloc[:250], equal_nan=True)
    assert np.allclose(before.iloc[251:], after.iloc[251:], equal_nan=True)


def test_constant_column_is_centred_not_divided_by_zero():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    z = SymbolScaler().fit([("X", frame)]).transform(frame, "X")
    assert z["b"].tolist() == [0.0, 0.0, 0.0]


def test_save_load_round_trip(tmp_path):
    amzn, goog = _symbol(1, 220.0), _symbol(2, 580.0)
    scaler = SymbolScaler().fit([("AMZN", amzn.iloc[:200]), ("GOOG", goog.iloc[:200])])
    scaler.save(tmp_path / "normaliser.json")
    back = SymbolScaler.load(tmp_path / "normaliser.json")
    assert back.symbols == ["AMZN", "GOOG"]
    for symbol, frame in (("AMZN", amzn), ("GOOG", goog)):
        pd.testing.assert_frame_equal(back.transform(frame, symbol), scaler.transform(frame, symbol))
    assert SymbolScaler.from_dict(scaler.to_dict()).to_dict() == scaler.to_dict()


def test_a_symbol_not_seen_in_training_is_a_clear_error():
    scaler = SymbolScaler().fit([("AMZN", _symbol(1, 220.0).iloc[:200])])
    with pytest.raises(ValueError, match=r"symbol: expected one of the symbols the model was trained on \['AMZN'\]"):
        scaler.transform(_symbol(2, 580.0), "GOOG")


def test_other_columns_at_transform_are_a_clear_error():
    scaler = SymbolScaler().fit([("AMZN", _symbol(1, 220.0).iloc[:200])])
    with pytest.raises(ValueError, match=r"expected the columns \['price', 'size'\]"):
        scaler.transform(_symbol(1, 220.0)[["size", "price"]], "AMZN")


def test_a_column_without_finite_training_values_is_named():
    frame = _symbol(1, 220.0).iloc[:200]
    frame["size"] = np.nan
    with pytest.raises(ValueError, match=r"training rows of 'AMZN'.*column 'size'"):
        SymbolScaler().fit([("AMZN", frame)])


def test_a_damaged_saved_scaler_names_the_key():
    data = SymbolScaler().fit([("AMZN", _symbol(1, 220.0).iloc[:200])]).to_dict()
    data["symbols"]["AMZN"]["std"] = [1.0]
    with pytest.raises(ValueError, match=r"normaliser\['symbols'\]\['AMZN'\]\['std'\]: expected 2 numbers"):
        SymbolScaler.from_dict(data)


def test_which_models_take_the_stage():
    assert create("logistic").per_symbol_normalisation
    assert create("lightgbm").per_symbol_normalisation
    assert not create("ofi_sign").per_symbol_normalisation  # reads a sign
    assert not create("deeplob").per_symbol_normalisation  # scale-free per row already
