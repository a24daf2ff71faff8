"""Pieces (one symbol on one day): discovery from the [data] section, loading one piece alone, their boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from signalbench.data import DataFormatError, compute_features, load_lobster
from signalbench.data.features import half_spread_bps, mid_price
from signalbench.data.pieces import Piece, discover, load_piece
from signalbench.experiment.config import LobsterData, SyntheticData

# ------------------------------------------------------------------------------------------------- synthetic


def _synthetic(**kw) -> SyntheticData:
    return SyntheticData(kind="synthetic", **{"n": 600, "ticks_per_day": 200, "seed": 7, **kw})


def test_synthetic_pieces_are_symbols_times_days_sorted_by_day_then_symbol():
    pieces = discover(_synthetic(symbols=2), Path("."))
    assert [p.id for p in pieces] == [
        "SYN0/2020-01-02", "SYN1/2020-01-02", "SYN0/2020-01-03", "SYN1/2020-01-03",
        "SYN0/2020-01-06", "SYN1/2020-01-06",  # consecutive business days: the 4th and 5th are a weekend
    ]
    for p in pieces:
        json.dumps(dict(p.source))  # JSON-able


def test_synthetic_days_default_from_n_and_ticks_per_day_and_last_day_partial():
    pieces = discover(_synthetic(n=500), Path("."))
    assert [p.source["n"] for p in pieces] == [200, 200, 100]
    assert [p.source["n"] for p in discover(_synthetic(n=500, ticks_per_day=None), Path("."))] == [500]
    assert [p.source["n"] for p in discover(_synthetic(n=600, ticks_per_day=None, days=3), Path("."))] == [200] * 3


def test_synthetic_pieces_differ_and_a_piece_is_a_pure_function_of_its_source():
    pieces = discover(_synthetic(symbols=2), Path("."))
    assert len({p.source["seed"] for p in pieces}) == len(pieces)
    a = load_piece(pieces[1], "lob_basic", spread=True)
    b = load_piece(Piece(pieces[1].symbol, pieces[1].day, json.loads(json.dumps(dict(pieces[1].source)))),
                   "lob_basic", spread=True)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.features, b.features)
    c = load_piece(pieces[0], "lob_basic", spread=False)
    assert not np.array_equal(a.price.to_numpy(), c.price.to_numpy())
    assert c.half_spread_bps is None and a.half_spread_bps is not None
    assert 0.5 <= a.bayes_accuracy <= 1.0


def test_synthetic_piece_rows_lie_on_its_day_and_features_restart_there():
    piece = discover(_synthetic(), Path("."))[2]
    data = load_piece(piece, "lob_basic", spread=False)
    assert len(data.frame) == 200
    assert set(data.frame.index.normalize().date.astype(str)) == {piece.day}
    assert data.features.iloc[0].isna().any()  # warm-up at the piece's first row
    np.testing.assert_array_equal(data.price.to_numpy(), mid_price(data.frame))
    pd.testing.assert_frame_equal(data.features, compute_features(data.frame, "lob_basic"))


def test_synthetic_days_that_leave_a_day_without_rows_are_refused():
    with pytest.raises(ValueError, match="days"):
        _synthetic(n=600, ticks_per_day=200, days=4)


# ----------------------------------------------------------------------------------------------------- LOBSTER


def _touch_pair(folder: Path, ticker: str, day: str, *, level: int = 1, start: int = 34200000, book: bool = True):
    stem = f"{ticker}_{day}_{start}_57600000"
    msg = folder / f"{stem}_message_{level}.csv"
    msg.write_text("")
    if book:
        (folder / f"{stem}_orderbook_{level}.csv").write_text("")
    return msg


def test_lobster_glob_list_gives_one_piece_per_symbol_day_without_reading_rows(tmp_path):
    for t, d in [("AAA", "2020-03-02"), ("BBB", "2020-03-02"), ("AAA", "2020-03-03")]:
        _touch_pair(tmp_path, t, d)  # empty files: discovery reads names only
    data = LobsterData(kind="lobster", path=["*_message_1.csv"])
    pieces = discover(data, tmp_path)
    assert [p.id for p in pieces] == ["AAA/2020-03-02", "BBB/2020-03-02", "AAA/2020-03-03"]
    assert all(p.source["kind"] == "lobster" for p in pieces)
    json.dumps([dict(p.source) for p in pieces])


def test_lobster_glob_matching_nothing_names_the_pattern(tmp_path):
    with pytest.raises(DataFormatError, match=r"data\.path: expected the pattern 'nope_\*\.csv' to match"):
        discover(LobsterData(kind="lobster", path="nope_*.csv"), tmp_path)


def test_lobster_message_without_orderbook_names_the_file(tmp_path):
    msg = _touch_pair(tmp_path, "AAA", "2020-03-02", book=False)
    with pytest.raises(DataFormatError, match=msg.name):
        discover(LobsterData(kind="lobster", path=str(tmp_path / "*.csv")), tmp_path)


def test_lobster_two_files_for_one_symbol_day_name_both(tmp_path):
    a = _touch_pair(tmp_path, "AAA", "2020-03-02", start=34200000)
    b = _touch_pair(tmp_path, "AAA", "2020-03-02", start=34300000)
    with pytest.raises(DataFormatError, match="two for AAA on 2020-03-02") as info:
        discover(LobsterData(kind="lobster", path=["*_message_1.csv"]), tmp_path)
    assert a.name in str(info.value) and b.name in str(info.value)


def test_lobster_file_name_without_symbol_or_date_names_the_file(tmp_path):
    odd = tmp_path / "book_messages.csv"
    odd.write_text("")
    with pytest.raises(DataFormatError, match="book_messages.csv"):
        discover(LobsterData(kind="lobster", path="book_messages.csv"), tmp_path)


def test_lobster_unreadable_file_is_found_at_load_time_naming_it(tmp_path):
    msg = _touch_pair(tmp_path, "AAA", "2020-03-02")
    msg.write_text("not,a,lobster,file\n")
    (piece,) = discover(LobsterData(kind="lobster", path="*.csv"), tmp_path)  # names only: no error yet
    with pytest.raises(DataFormatError, match=msg.name):
        load_piece(piece, "lob_basic", spread=False)


@pytest.fixture(scope="module")
def lobster_dir(shared_data: Path) -> Path:
    return shared_data / "lobster"


@pytest.mark.shared_data
def test_shared_samples_by_glob_are_two_pieces_loaded_as_load_lobster_loads_them(lobster_dir):
    data = LobsterData(kind="lobster", path=str(lobster_dir / "LOBSTER_SampleFile_*.zip"))
    pieces = discover(data, Path("."))
    assert [p.id for p in pieces] == ["AMZN/2012-06-21", "GOOG/2012-06-21"]
    for piece, zip_name, levels in zip(pieces, ["AMZN_2012-06-21_1", "GOOG_2012-06-21_5"], [1, 5]):
        got = load_piece(piece, "lob_basic", spread=True)
        want = load_lobster(lobster_dir / f"LOBSTER_SampleFile_{zip_name}.zip")
        pd.testing.assert_frame_equal(got.frame, want)
        assert got.frame.attrs["levels"] == levels
        pd.testing.assert_frame_equal(got.features, compute_features(want, "lob_basic"))
        np.testing.assert_array_equal(got.price.to_numpy(), mid_price(want))
        np.testing.assert_array_equal(got.half_spread_bps, half_spread_bps(want))
        assert got.bayes_accuracy is None
