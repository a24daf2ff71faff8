"""Pieces (one symbol on one day): discovery from the [data] section, loading one piece alone, their boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.data import DataFormatError, compute_features, load_lobster
from signalbench.data import labels as lab
from signalbench.data.features import half_spread_bps, mid_price
from signalbench.data.pieces import Piece, derive, discover, load_piece
from signalbench.data.splits import usable_rows
from signalbench.experiment.config import LobsterData, SyntheticData

# ------------------------------------------------------------------------------------------------- synthetic


def _synthetic(**kw) -> SyntheticData:
    return SyntheticData(kind="synthetic", **{"n": 600, "ticks_per_day": 200, "seed": 7, **kw})


def test_synthetic_pieces_are_symbols_times_days_sorted_by_day_then_symbol():
    pieces = discover(_synthetic(symbols=2), Path("."))
    assert [p.id for p in pieces] == [
        "SYN0/2020-01-02",
        "SYN1/2020-01-02",
        "SYN0/2020-01-03",
        "SYN1/2020-01-03",
        "SYN0/2020-01-06",
        "SYN1/2020-01-06",  # consecutive business days: the 4th and 5th are a weekend
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
    b = load_piece(
        Piece(pieces[1].symbol, pieces[1].day, json.loads(json.dumps(dict(pieces[1].source)))), "lob_basic", spread=True
    )
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


# -------------------------------------------------------------------------------------------------------- bars


def _bars(days: list[str], per_day: int, *, seed: int = 0, start: str = "09:30") -> pd.DataFrame:
    """Valid 1-minute OHLCV bars: ``per_day`` bars from ``start`` on each day."""
    rng = np.random.default_rng(seed)
    stamps = np.concatenate([pd.date_range(f"{d} {start}", periods=per_day, freq="1min").to_numpy() for d in days])
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, size=len(stamps))))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 1e-3, len(stamps)))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 1e-3, len(stamps)))
    volume = rng.integers(1, 1000, len(stamps)).astype(float)
    return pd.DataFrame(
        {"timestamp": stamps, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )


def _bars_data(path, **kw):
    from signalbench.experiment.config import BarsData

    return BarsData(kind="bars", path=path, **kw)


DAYS = ["2021-03-01", "2021-03-02", "2021-03-03"]


def test_bars_one_file_per_symbol_gives_symbol_day_pieces_loaded_like_load_bars(tmp_path):
    from signalbench.data import load_bars

    for k, sym in enumerate(["AAA", "BBB"]):
        _bars(DAYS, 30, seed=k).to_csv(tmp_path / f"{sym}_1min.csv", index=False)
    pieces = discover(_bars_data("*_1min.csv"), tmp_path)
    assert [p.id for p in pieces] == [f"{s}/{d}" for d in DAYS for s in ("AAA", "BBB")]
    piece = pieces[3]  # BBB on the second day
    got = load_piece(piece, "bar_returns", spread=False)
    whole = load_bars(tmp_path / "BBB_1min.csv")
    want = whole.loc["2021-03-02"]
    pd.testing.assert_frame_equal(got.frame, want)
    np.testing.assert_array_equal(got.price.to_numpy(), want["close"].to_numpy())
    pd.testing.assert_frame_equal(got.features, compute_features(want, "bar_returns"))
    assert got.features.iloc[0].isna().any()  # warm-up restarts at the day's first bar
    assert got.half_spread_bps is None and got.bayes_accuracy is None


def test_bars_symbol_setting_names_the_file_symbol(tmp_path):
    _bars(DAYS[:1], 20).to_csv(tmp_path / "prices.csv", index=False)
    (piece,) = discover(_bars_data("prices.csv", symbol="XYZ"), tmp_path)
    assert piece.id == "XYZ/2021-03-01"
    assert len(load_piece(piece, "bar_returns", spread=False).frame) == 20


def test_bars_long_file_with_symbol_column(tmp_path):
    a, b = _bars(DAYS[:2], 15, seed=1), _bars(DAYS[1:], 15, seed=2)
    long = pd.concat([a.assign(symbol="AAA"), b.assign(symbol="BBB")]).sort_values("timestamp", kind="stable")
    long.to_csv(tmp_path / "all.csv", index=False)
    pieces = discover(_bars_data(["all.csv"]), tmp_path)
    assert [p.id for p in pieces] == ["AAA/2021-03-01", "AAA/2021-03-02", "BBB/2021-03-02", "BBB/2021-03-03"]
    got = load_piece(pieces[2], "bar_returns", spread=False).frame
    assert "symbol" not in got.columns
    np.testing.assert_allclose(got["close"].to_numpy(), b["close"].to_numpy()[:15])


def test_bars_empty_symbol_value_names_file_and_row(tmp_path):
    long = _bars(DAYS[:1], 10).assign(symbol="AAA")
    long.loc[4, "symbol"] = ""
    long.to_csv(tmp_path / "all.csv", index=False)
    with pytest.raises(DataFormatError, match=r"all\.csv, row 5 \(line 6\).*'symbol'.*expected a symbol"):
        discover(_bars_data("all.csv"), tmp_path)


def test_bars_bad_row_of_one_symbol_names_the_file_row(tmp_path):
    a, b = _bars(DAYS[:1], 10, seed=1).assign(symbol="AAA"), _bars(DAYS[:1], 10, seed=2).assign(symbol="BBB")
    long = pd.concat([a, b], ignore_index=True)
    long.loc[13, "close"] = -1.0  # BBB's 4th bar, the file's 14th row
    long.to_csv(tmp_path / "all.csv", index=False)
    with pytest.raises(DataFormatError, match=r"all\.csv, row 14 \(line 15\).*symbol 'BBB'"):
        discover(_bars_data("all.csv"), tmp_path)


def test_bars_two_files_for_one_symbol_day_name_both(tmp_path):
    _bars(DAYS[:1], 10).to_csv(tmp_path / "AAA_a.csv", index=False)
    _bars(DAYS[:1], 10, start="11:00").to_csv(tmp_path / "AAA_b.csv", index=False)
    with pytest.raises(DataFormatError, match="two for AAA on 2021-03-01") as info:
        discover(_bars_data("AAA_*.csv"), tmp_path)
    assert "AAA_a.csv" in str(info.value) and "AAA_b.csv" in str(info.value)


def test_bars_file_name_without_symbol_is_an_error_naming_it(tmp_path):
    _bars(DAYS[:1], 10).to_csv(tmp_path / "_bars.csv", index=False)
    with pytest.raises(DataFormatError, match=r"_bars\.csv: expected a file name that starts with the symbol"):
        discover(_bars_data("_bars.csv"), tmp_path)


def test_bars_days_are_calendar_days_in_the_configured_zone(tmp_path):
    frame = _bars(["2021-03-01"], 4, start="23:58")  # 23:58, 23:59 UTC on the 1st, 00:00, 00:01 on the 2nd
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_localize("UTC")
    frame.to_csv(tmp_path / "AAA.csv", index=False)
    assert [p.day for p in discover(_bars_data("AAA.csv"), tmp_path)] == ["2021-03-01", "2021-03-02"]
    (piece,) = discover(_bars_data("AAA.csv", tz="America/New_York"), tmp_path)  # 18:58 to 19:01 on the 1st
    assert piece.day == "2021-03-01"
    assert len(load_piece(piece, "bar_returns", spread=False).frame) == 4


def test_bars_file_damaged_after_discovery_fails_at_load_naming_it(tmp_path):
    path = tmp_path / "AAA.csv"
    _bars(DAYS[:1], 10).to_csv(path, index=False)
    (piece,) = discover(_bars_data("AAA.csv"), tmp_path)
    path.write_text("timestamp,open\n2021-03-01 09:30,x\n")
    with pytest.raises(DataFormatError, match="AAA.csv"):
        load_piece(piece, "bar_returns", spread=False)


# ---------------------------------------------------------------------------------- piece boundaries (properties)

# a layout: symbols x days, each piece its own length (a length-1 piece included)
layouts = st.integers(1, 3).flatmap(
    lambda s: st.integers(1, 3).flatmap(lambda d: st.lists(st.integers(1, 40), min_size=s * d, max_size=s * d))
)


def _stamped(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Piece ``k`` on its own day (days increase with ``k``, so the concatenation's time index is sorted)."""
    day = pd.Timestamp("2012-06-21") + pd.Timedelta(days=k)
    out = frame.copy()
    out.index = pd.DatetimeIndex(
        day + pd.Timedelta(hours=9, minutes=30) + pd.to_timedelta(np.arange(len(frame)), unit="s"), name="time"
    )
    if "day" in out.columns:
        out["day"] = day
    return out


def _concat(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, np.ndarray]:
    groups = np.concatenate([np.full(len(f), f"P{k}") for k, f in enumerate(frames)])
    return pd.concat(frames), groups


def _assert_piece_features_equal_grouped(frames, feature_set, *, bars):
    whole, groups = _concat(frames)
    grouped = compute_features(whole, feature_set, groups=groups)
    start = 0
    for f in frames:
        alone = derive(f, feature_set, spread=False, bars=bars).features
        pd.testing.assert_frame_equal(alone, grouped.iloc[start : start + len(f)])
        start += len(f)


@given(
    lengths=layouts,
    seed=st.integers(0, 2**16),
    feature_set=st.sampled_from(["lob_basic", "lob_levels", "price_volume"]),
)
def test_book_features_of_a_piece_alone_equal_the_grouped_features_of_the_concatenation(
    lobster_frame, lengths, seed, feature_set
):
    from signalbench.data import synthetic_ticks

    if feature_set == "price_volume":  # tick columns (trade price, volume, spread): synthetic ticks, 2+ rows each
        frames = [_stamped(synthetic_ticks(n + 1, seed=seed + k).data, k) for k, n in enumerate(lengths)]
    else:
        frames = [_stamped(lobster_frame(n, levels=3, seed=seed + k), k) for k, n in enumerate(lengths)]
    _assert_piece_features_equal_grouped(frames, feature_set, bars=False)


@given(lengths=layouts, seed=st.integers(0, 2**16), feature_set=st.sampled_from(["bar_returns", "close_indicators"]))
def test_bar_features_of_a_piece_alone_equal_the_grouped_features_of_the_concatenation(lengths, seed, feature_set):
    frames = []
    for k, n in enumerate(lengths):
        bars = _bars(["2012-06-21"], n, seed=seed + k).set_index("timestamp")
        frames.append(_stamped(bars, k))
    _assert_piece_features_equal_grouped(frames, feature_set, bars=True)


@given(lengths=layouts, horizon=st.integers(1, 8), seq_len=st.integers(1, 12))
def test_usable_rows_with_piece_groups_never_cross_a_piece(lengths, horizon, seq_len):
    piece = np.repeat(np.arange(len(lengths)), lengths)
    n = len(piece)
    rows = usable_rows(n, horizon=horizon, seq_len=seq_len, groups=np.array([f"P{k}" for k in piece]))
    inside = [
        t
        for t in range(n)
        if t - seq_len + 1 >= 0 and t + horizon < n and len(set(piece[t - seq_len + 1 : t + horizon + 1])) == 1
    ]
    np.testing.assert_array_equal(rows, inside)


@pytest.mark.filterwarnings("ignore::signalbench._validation.EmptyResultWarning")  # a piece shorter than horizon
@given(
    lengths=layouts,
    horizon=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["direction", "smoothed_direction", "forward_change", "forward_log_return"]),
)
def test_labels_with_piece_groups_are_nan_in_the_last_horizon_rows_of_each_piece(lengths, horizon, seed, kind):
    rng = np.random.default_rng(seed)
    prices = [100 * np.exp(np.cumsum(rng.normal(0, 1e-3, n))) for n in lengths]
    groups = np.concatenate([np.full(n, k) for k, n in enumerate(lengths)])
    make = getattr(lab, kind)
    y = np.asarray(make(np.concatenate(prices), horizon, groups=groups), dtype=np.float64)
    start = 0
    for p in prices:
        part = y[start : start + len(p)]
        assert np.isnan(part[max(len(p) - horizon, 0) :]).all()  # the label would read the next piece
        assert not np.isnan(part[: max(len(p) - horizon, 0)]).any()
        np.testing.assert_array_equal(part, np.asarray(make(p, horizon), dtype=np.float64))  # the piece alone
        start += len(p)


# ------------------------------------------------------------------ one piece computes what load_inputs computes


def _same_as_load_inputs(exp):
    from signalbench.experiment.inputs import load_inputs, needs_spread

    whole = load_inputs(exp)
    (piece,) = discover(exp.data, Path(exp.base_dir))
    got = load_piece(piece, exp.features, spread=needs_spread(exp))
    pd.testing.assert_frame_equal(got.frame, whole.frame)
    pd.testing.assert_frame_equal(got.features, whole.features)
    pd.testing.assert_series_equal(got.price, whole.price)
    np.testing.assert_array_equal(got.half_spread_bps, whole.half_spread_bps)


@pytest.mark.shared_data
def test_a_one_day_lobster_input_loads_as_load_inputs_loads_it(lobster_dir):
    from signalbench.experiment.config import Experiment

    exp = Experiment(
        name="t",
        data={"kind": "lobster", "path": "LOBSTER_SampleFile_GOOG_2012-06-21_5.zip"},
        features=["lob_basic", "lob_levels"],
        costs={"half_spread_bps": "quoted"},
        base_dir=str(lobster_dir),
    )
    _same_as_load_inputs(exp)


def test_a_one_day_bars_input_loads_as_load_inputs_loads_it(tmp_path):
    from signalbench.experiment.config import Experiment

    _bars(DAYS[:1], 40).to_csv(tmp_path / "AAA_1min.csv", index=False)
    exp = Experiment(
        name="t", data={"kind": "bars", "path": "AAA_1min.csv"}, features="bar_returns", base_dir=str(tmp_path)
    )
    _same_as_load_inputs(exp)


def test_synthetic_seed_is_the_sections_else_the_experiments():
    data = SyntheticData(kind="synthetic", n=400)
    seeds = lambda d, **kw: [p.source["seed"] for p in discover(d, Path("."), **kw)]  # noqa: E731
    assert seeds(data, seed=3) != seeds(data, seed=4)
    assert seeds(data) == seeds(data, seed=0)
    assert seeds(SyntheticData(kind="synthetic", n=400, seed=5), seed=3) == seeds(data, seed=5)


@pytest.mark.parametrize(
    ("name", "symbol"),
    [("BRK.B_1min.csv", "BRK.B"), ("AAPL.csv.gz", "AAPL"), ("MSFT_2021.parquet", "MSFT"), ("prices.csv", "prices")],
)
def test_bars_symbol_from_the_file_name(tmp_path, name, symbol):
    path = tmp_path / name
    bars = _bars(DAYS[:1], 5)
    bars.to_parquet(path) if name.endswith(".parquet") else bars.to_csv(path, index=False)
    assert [p.symbol for p in discover(_bars_data(name), tmp_path)] == [symbol]


def test_bars_pieces_of_one_file_read_it_once(tmp_path, monkeypatch):
    import signalbench.data.bars as bars_module

    _bars(DAYS, 10).to_csv(tmp_path / "AAA.csv", index=False)
    pieces = discover(_bars_data("AAA.csv"), tmp_path)
    reads = []
    real = bars_module.read_bars
    monkeypatch.setattr(bars_module, "read_bars", lambda p: reads.append(p) or real(p))
    (tmp_path / "AAA.csv").touch()  # a new modification time: the next load reads the file again, once
    frames = [load_piece(p, "bar_returns", spread=False).frame for p in pieces]
    assert len(reads) == 1
    assert [len(f) for f in frames] == [10, 10, 10]


def test_pieces_hash_and_pickle():
    import pickle

    pieces = discover(_synthetic(symbols=2), Path("."))
    assert len(set(pieces)) == len(pieces) and {pieces[0]: 1}[pieces[0]] == 1
    assert pickle.loads(pickle.dumps(pieces)) == pieces


@pytest.mark.shared_data
def test_a_zip_of_several_days_gives_one_piece_per_day_each_loading_its_own_rows(lobster_dir, tmp_path):
    import zipfile

    with zipfile.ZipFile(lobster_dir / "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip") as zf:
        names = sorted(zf.namelist())
        msg = next(n for n in names if "_message_" in n)
        book = next(n for n in names if "_orderbook_" in n)
        lines = {n: zf.read(n).decode().splitlines(keepends=True) for n in (msg, book)}
    archive = tmp_path / "two_days.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for day, (a, b) in (("2012-06-21", (0, 30)), ("2012-06-22", (30, 70))):
            for n in (msg, book):
                zf.writestr(Path(n).name.replace("2012-06-21", day), "".join(lines[n][a:b]))
    pieces = discover(LobsterData(kind="lobster", path="two_days.zip"), tmp_path)
    assert [p.id for p in pieces] == ["AMZN/2012-06-21", "AMZN/2012-06-22"]
    first, second = (load_piece(p, "lob_basic", spread=False).frame for p in pieces)
    assert (len(first), len(second)) == (30, 40)
    assert set(second.index.normalize().date.astype(str)) == {"2012-06-22"}
