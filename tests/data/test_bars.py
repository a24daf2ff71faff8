"""Tests of signalbench.data.bars.load_bars on CSV and Parquet files written here."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.data._errors import DataFormatError
from signalbench.data.bars import BarsFormatError, load_bars

STAMPS = pd.date_range("2024-03-04 09:30", periods=6, freq="min")
OHLCV = {
    "open": [10.0, 10.5, 10.4, 10.9, 11.0, 10.8],
    "high": [10.6, 10.7, 11.0, 11.2, 11.1, 10.9],
    "low": [9.9, 10.3, 10.2, 10.8, 10.7, 10.5],
    "close": [10.5, 10.4, 10.9, 11.0, 10.8, 10.6],
    "volume": [100.0, 0.0, 250.0, 80.0, 120.0, 90.0],
}


def frame(**renames: str) -> pd.DataFrame:
    df = pd.DataFrame(OHLCV)
    return df.rename(columns=renames)


def expected(volume: bool = True) -> pd.DataFrame:
    cols = {k: v for k, v in OHLCV.items() if volume or k != "volume"}
    return pd.DataFrame(cols, index=pd.DatetimeIndex(STAMPS, name="timestamp", freq=None).as_unit("ns"))


def write_csv(path: Path, df: pd.DataFrame, **kwargs) -> Path:
    df.to_csv(path, **{"index": False, **kwargs})
    return path


def check_error(exc_info, path: Path, column: str | None, row: int | None, *words: str, csv: bool = True) -> None:
    err = exc_info.value
    text = str(err)
    assert isinstance(err, ValueError) and isinstance(err, DataFormatError)
    assert str(path) in text, text
    if column is not None:
        assert f"column {column!r}" in text, text
        assert err.column == column
    if row is not None:
        assert f"row {row}" in text, text
        assert err.row == row
        if csv:
            assert f"line {row + 1}" in text, text
    for word in words:
        assert word in text, text


# ------------------------------------------------------------------------------------------------------------------
# Detection of the timestamp and the columns
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["timestamp", "Timestamp", "DATE", "Datetime", "time", "date_time", " ts "])
def test_timestamp_column_detected_case_insensitively(tmp_path, name):
    df = frame()
    df.insert(0, name, STAMPS.strftime("%Y-%m-%d %H:%M:%S"))
    got = load_bars(write_csv(tmp_path / "bars.csv", df))
    pd.testing.assert_frame_equal(got, expected())


def test_timestamp_named_by_caller(tmp_path):
    df = frame()
    df["bar_end"] = STAMPS.strftime("%Y-%m-%dT%H:%M")
    df["date"] = "not a date"  # would be picked by detection; the caller's choice wins
    got = load_bars(write_csv(tmp_path / "bars.csv", df), timestamp="Bar_End")
    pd.testing.assert_frame_equal(got[list(OHLCV)], expected())
    assert list(got.columns) == [*OHLCV, "date"]
    with pytest.raises(BarsFormatError) as exc:
        load_bars(tmp_path / "bars.csv", timestamp="when")
    check_error(exc, tmp_path / "bars.csv", None, None, "'when' not found", "bar_end")


def test_separate_date_and_time_columns_are_joined(tmp_path):
    df = frame()
    df.insert(0, "Time", STAMPS.strftime("%H:%M:%S"))
    df.insert(0, "Date", STAMPS.strftime("%Y-%m-%d"))
    path = write_csv(tmp_path / "bars.csv", df)
    pd.testing.assert_frame_equal(load_bars(path), expected())
    pd.testing.assert_frame_equal(load_bars(path, timestamp=("date", "time")), expected())


def test_index_written_by_to_csv_and_parquet(tmp_path):
    df = frame().set_index(STAMPS)
    df.to_csv(tmp_path / "unnamed.csv")  # the index becomes an unnamed first column
    pd.testing.assert_frame_equal(load_bars(tmp_path / "unnamed.csv"), expected())
    df.to_parquet(tmp_path / "index.parquet")
    pd.testing.assert_frame_equal(load_bars(tmp_path / "index.parquet"), expected())
    named = df.rename_axis("Bar Time")
    named.to_parquet(tmp_path / "named.pq")
    pd.testing.assert_frame_equal(load_bars(tmp_path / "named.pq", timestamp="bar time"), expected())
    # Parquet recognised by its magic bytes whatever the suffix.
    named.reset_index().to_parquet(tmp_path / "bars.dat")
    pd.testing.assert_frame_equal(load_bars(tmp_path / "bars.dat", timestamp="Bar Time"), expected())


def test_parquet_timestamp_column(tmp_path):
    df = frame()
    df.insert(0, "datetime", STAMPS)
    df.to_parquet(tmp_path / "bars.parquet", index=False)
    pd.testing.assert_frame_equal(load_bars(tmp_path / "bars.parquet"), expected())


def test_column_names_normalised_and_aliases(tmp_path):
    df = frame(open="OPEN", high=" High ", low="l", close="C", volume="Vol")
    df.insert(0, "Date", STAMPS.strftime("%Y-%m-%d %H:%M"))
    df["Adj Close"] = df["C"]
    got = load_bars(write_csv(tmp_path / "bars.csv", df))
    assert list(got.columns) == ["open", "high", "low", "close", "volume", "Adj Close"]
    pd.testing.assert_frame_equal(got[list(OHLCV)], expected())


def test_volume_is_optional(tmp_path):
    fx = frame().drop(columns="volume")
    fx.insert(0, "timestamp", STAMPS.strftime("%Y-%m-%d %H:%M"))
    got = load_bars(write_csv(tmp_path / "eurusd.csv", fx))
    assert "volume" not in got.columns
    pd.testing.assert_frame_equal(got, expected(volume=False))


def test_two_columns_for_one_field_is_an_error(tmp_path):
    df = frame()
    df.insert(0, "timestamp", STAMPS.strftime("%Y-%m-%d %H:%M"))
    df["Close "] = df["close"]
    path = write_csv(tmp_path / "bars.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "Close ", None, "'close'", "both mean")


def test_missing_price_column(tmp_path):
    df = frame().drop(columns="low")
    df.insert(0, "timestamp", STAMPS.strftime("%Y-%m-%d %H:%M"))
    path = write_csv(tmp_path / "bars.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, None, None, "missing column(s) low", "found columns: timestamp, open")


def test_no_timestamp_anywhere(tmp_path):
    path = write_csv(tmp_path / "bars.csv", frame())
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, None, None, "no timestamp column", "timestamp=")


def test_time_zones(tmp_path):
    df = frame()
    df.insert(0, "timestamp", STAMPS.strftime("%Y-%m-%d %H:%M"))
    path = write_csv(tmp_path / "naive.csv", df)
    got = load_bars(path, tz="America/New_York")
    assert str(got.index.tz) == "America/New_York"
    assert got.index[0] == pd.Timestamp("2024-03-04 09:30", tz="America/New_York")
    assert load_bars(path).index.tz is None

    df["timestamp"] = STAMPS.tz_localize("UTC").strftime("%Y-%m-%dT%H:%M:%S%z")
    path = write_csv(tmp_path / "utc.csv", df)
    got = load_bars(path, tz="Europe/Berlin")
    assert got.index[0] == pd.Timestamp("2024-03-04 10:30", tz="Europe/Berlin")

    # Offsets that change across a daylight-saving switch are the same instants in UTC.
    stamps = pd.DatetimeIndex(["2024-03-09 12:00", "2024-03-10 12:00"]).tz_localize("America/New_York")
    two = frame().iloc[:2].copy()
    two.insert(0, "timestamp", stamps.strftime("%Y-%m-%d %H:%M:%S%z"))
    got = load_bars(write_csv(tmp_path / "dst.csv", two))
    assert list(got.index) == [pd.Timestamp("2024-03-09 17:00", tz="UTC"), pd.Timestamp("2024-03-10 16:00", tz="UTC")]


@pytest.mark.parametrize(("unit", "factor"), [("s", 1), ("ms", 10**3), ("us", 10**6), ("ns", 10**9)])
def test_epoch_timestamps_unit_from_magnitude(tmp_path, unit, factor):
    df = frame()
    df.insert(0, "time", (STAMPS.as_unit("ns").asi8 // 10**9) * factor)
    pd.testing.assert_frame_equal(load_bars(write_csv(tmp_path / f"{unit}.csv", df)), expected())


def test_epoch_timestamps_in_mixed_units(tmp_path):
    df = frame()
    seconds = STAMPS.as_unit("ns").asi8 // 10**9
    df.insert(0, "time", seconds * 1000)
    df.loc[3, "time"] = seconds[3]
    path = write_csv(tmp_path / "mixed.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "time", 4, "epoch s", "row 1 is in epoch ms")


# ------------------------------------------------------------------------------------------------------------------
# Validation: each error names the file, column, row (and CSV line) and the timestamp
# ------------------------------------------------------------------------------------------------------------------


def stamped(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df.insert(0, "timestamp", STAMPS.strftime("%Y-%m-%d %H:%M:%S"))
    return df


@pytest.mark.parametrize(
    ("column", "row", "value", "words"),
    [
        ("high", 3, 10.85, "high >= max(open, close)"),  # below close 10.9
        ("high", 5, 10.95, "high >= max(open, close)"),  # below open 11.0
        ("low", 2, 10.45, "low <= min(open, close)"),  # above close 10.4
        ("low", 6, 10.7, "low <= min(open, close)"),  # above close 10.6
        ("volume", 4, -1.0, "expected a volume >= 0"),
        ("open", 2, 0.0, "expected a price > 0"),
        ("close", 3, -10.9, "expected a price > 0"),
        ("low", 4, np.inf, "not finite"),
        ("close", 5, np.nan, "missing value"),
        ("volume", 6, np.nan, "missing value"),
    ],
)
def test_invalid_values(tmp_path, column, row, value, words):
    df = stamped(frame())
    df.loc[row - 1, column] = value
    path = write_csv(tmp_path / "bars.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, column, row, words, f"timestamp {STAMPS[row - 1]}")
    df.set_index(STAMPS).drop(columns="timestamp").to_parquet(tmp_path / "bars.parquet")
    with pytest.raises(BarsFormatError) as exc:
        load_bars(tmp_path / "bars.parquet")
    check_error(exc, tmp_path / "bars.parquet", column, row, words, csv=False)
    assert "line" not in str(exc.value)


def test_error_names_the_files_column_spelling(tmp_path):
    df = stamped(frame(high="High"))
    df.loc[2, "High"] = 1.0
    path = write_csv(tmp_path / "bars.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "High", 3, "high=1.0")


def test_non_numeric_price(tmp_path):
    df = stamped(frame()).astype({"close": object})
    df.loc[3, "close"] = "10,9"
    path = write_csv(tmp_path / "bars.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "close", 4, "'10,9' is not a number", str(STAMPS[3]))


def test_duplicate_and_unsorted_timestamps(tmp_path):
    df = stamped(frame())
    df.loc[4, "timestamp"] = df.loc[3, "timestamp"]
    path = write_csv(tmp_path / "dup.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "timestamp", 5, "duplicate timestamp", str(STAMPS[3]))

    df = stamped(frame()).iloc[[0, 1, 3, 2, 4, 5]]
    path = write_csv(tmp_path / "unsorted.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "timestamp", 4, "goes backwards", f"{STAMPS[2]} after {STAMPS[3]}")


def test_bad_and_missing_timestamps(tmp_path):
    df = stamped(frame())
    df.loc[2, "timestamp"] = "2024-03-04 25:99:00"
    path = write_csv(tmp_path / "bad.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "timestamp", 3, "cannot parse timestamp '2024-03-04 25:99:00'")

    df = stamped(frame())
    df.loc[4, "timestamp"] = ""
    path = write_csv(tmp_path / "missing.csv", df)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "timestamp", 5, "missing timestamp")


def test_blank_line_is_reported_not_skipped(tmp_path):
    path = write_csv(tmp_path / "bars.csv", stamped(frame()))
    lines = path.read_text().splitlines()
    lines.insert(3, "")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, "timestamp", 3, "missing timestamp")


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(BarsFormatError) as exc:
        load_bars(empty)
    check_error(exc, empty, None, None, "empty")
    header = tmp_path / "header.csv"
    header.write_text("timestamp,open,high,low,close\n")
    with pytest.raises(BarsFormatError) as exc:
        load_bars(header)
    check_error(exc, header, None, None, "no data rows")
    with pytest.raises(FileNotFoundError):
        load_bars(tmp_path / "absent.csv")
    not_parquet = tmp_path / "junk.parquet"
    not_parquet.write_bytes(b"this is not parquet")
    with pytest.raises(BarsFormatError) as exc:
        load_bars(not_parquet)
    check_error(exc, not_parquet, None, None, "Parquet")


# ------------------------------------------------------------------------------------------------------------------
# Property: valid frames round-trip through CSV and Parquet; one corrupted cell is found at its row
# ------------------------------------------------------------------------------------------------------------------

price = st.floats(min_value=1e-4, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def ohlcv_frames(draw):
    n = draw(st.integers(1, 40))
    open_ = np.array(draw(st.lists(price, min_size=n, max_size=n)))
    close = np.array(draw(st.lists(price, min_size=n, max_size=n)))
    up = np.array(draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    down = np.array(draw(st.lists(st.floats(0, 0.99), min_size=n, max_size=n)))
    high = np.maximum(open_, close) + up
    low = np.minimum(open_, close) * (1 - down)
    steps = draw(st.lists(st.integers(1, 10**12), min_size=n, max_size=n))  # ns, strictly increasing
    stamps = pd.DatetimeIndex(pd.Timestamp("2001-01-01").value + np.cumsum(steps), name="timestamp")
    data = {"open": open_, "high": high, "low": low, "close": close}
    if draw(st.booleans()):
        data["volume"] = np.array(draw(st.lists(st.floats(0, 1e9), min_size=n, max_size=n)))
    return pd.DataFrame(data, index=stamps.as_unit("ns"))


@given(ohlcv_frames())
def test_valid_frames_round_trip_csv_and_parquet(df):
    with tempfile.TemporaryDirectory() as tmp:
        df.to_csv(Path(tmp) / "bars.csv")
        df.to_parquet(Path(tmp) / "bars.parquet")
        from_csv = load_bars(Path(tmp) / "bars.csv")
        from_parquet = load_bars(Path(tmp) / "bars.parquet")
    pd.testing.assert_frame_equal(from_csv, df, check_exact=True)
    pd.testing.assert_frame_equal(from_parquet, df, check_exact=True)


@given(ohlcv_frames(), st.data())
def test_a_corrupted_cell_is_found_at_its_row(df, data):
    i = data.draw(st.integers(0, len(df) - 1))
    column = data.draw(st.sampled_from(["high", "low", "open"]))
    bad = df.copy()
    if column == "high":
        bad.iloc[i, bad.columns.get_loc("high")] = max(df["open"].iloc[i], df["close"].iloc[i]) * 0.5
    elif column == "low":
        bad.iloc[i, bad.columns.get_loc("low")] = max(df["open"].iloc[i], df["close"].iloc[i]) * 2 + 1
    else:
        bad.iloc[i, bad.columns.get_loc("open")] = -1.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bars.csv"
        bad.to_csv(path)
        with pytest.raises(BarsFormatError) as exc:
            load_bars(path)
    assert exc.value.row == i + 1
    assert exc.value.column == column
    assert f"line {i + 2}" in str(exc.value) and f"timestamp {df.index[i]}" in str(exc.value)


# ------------------------------------------------------------------------------------------------------------------
# Wrong kinds of columns and arguments; damaged compressed files and Parquet (the library's error, never zlib's)
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "values", "words"),
    [
        ("close", pd.date_range("2024-01-01", periods=6), "datetimes"),  # would be read as 1.7e18 dollars
        ("volume", pd.to_timedelta(np.arange(6), unit="s"), "timedeltas"),
        ("open", [True, False, True, True, False, True], "booleans"),
    ],
)
def test_a_column_of_the_wrong_kind_is_a_type_error_naming_it(tmp_path, column, values, words):
    df = frame()
    df[column] = values
    df.index = STAMPS.rename("timestamp")
    path = tmp_path / "kinds.parquet"
    df.to_parquet(path)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    assert isinstance(exc.value, TypeError) and isinstance(exc.value, DataFormatError)
    check_error(exc, path, column, None, words, csv=False)


def test_text_cells_that_are_not_numbers(tmp_path):
    df = frame().astype({"close": str})
    df.loc[2, "close"] = "2024-01-01"
    df.index = STAMPS.rename("timestamp")
    df.to_parquet(tmp_path / "text.parquet")  # text cells: a format error naming the cell (not a wrong kind)
    with pytest.raises(BarsFormatError) as exc:
        load_bars(tmp_path / "text.parquet")
    check_error(exc, tmp_path / "text.parquet", "close", 3, "'2024-01-01' is not a number", csv=False)
    assert not isinstance(exc.value, TypeError)
    for cell, words in (("n/a", "missing value"), ("12..5", "'12..5' is not a number")):  # pandas reads n/a as NA
        csv = stamped(frame()).astype({"close": object})
        csv.loc[3, "close"] = cell
        path = write_csv(tmp_path / "cells.csv", csv)
        with pytest.raises(BarsFormatError) as exc:
            load_bars(path)
        check_error(exc, path, "close", 4, words)


def test_bad_arguments_are_named(tmp_path):
    path = write_csv(tmp_path / "bars.csv", stamped(frame()))
    with pytest.raises(TypeError, match=r"timestamp: expected a name \(str\) or a list of names, got 3"):
        load_bars(path, timestamp=3)
    with pytest.raises(TypeError, match=r"timestamp\[1\]: expected a name"):
        load_bars(path, timestamp=("date", 3))
    with pytest.raises(ValueError, match="timestamp: expected a column name or a"):
        load_bars(path, timestamp=("a", "b", "c"))
    with pytest.raises(TypeError, match="tz: expected a time-zone name"):
        load_bars(path, tz=5)
    with pytest.raises(TypeError, match="path: expected a path to a CSV or Parquet file, got 3"):
        load_bars(3)


def _compressed(tmp_path: Path, suffix: str) -> bytes:
    path = write_csv(tmp_path / f"source{suffix}", stamped(frame()))
    return path.read_bytes()


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz", ".zip"])
def test_truncated_compressed_csv(tmp_path, suffix):
    data = _compressed(tmp_path, suffix)
    assert len(data) > 40
    path = tmp_path / f"bars{suffix}"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(BarsFormatError) as exc:
        load_bars(path)
    check_error(exc, path, None, None, "truncated")
    if suffix == ".zip":  # the member the data stops in is named: archive:member
        (member,) = zipfile.ZipFile(tmp_path / f"source{suffix}").namelist()
        assert f"{path}:{member}:" in str(exc.value) and exc.value.path == f"{path}:{member}"


def test_corrupted_gzip_and_zip(tmp_path):
    data = bytearray(_compressed(tmp_path, ".csv.gz"))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bars.csv.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(BarsFormatError, match="damaged or truncated compressed data"):
        load_bars(path)
    path.write_bytes(b"not gzip at all, but named so")
    with pytest.raises(BarsFormatError, match="BadGzipFile"):
        load_bars(path)
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(BarsFormatError, match="two.zip: cannot be read"):
        load_bars(archive)


def test_damaged_parquet(tmp_path):
    source = tmp_path / "bars.parquet"
    stamped(frame()).to_parquet(source)
    data = source.read_bytes()
    for name, damaged in (
        ("truncated.parquet", data[: len(data) // 2]),
        ("footer.parquet", data[:-12] + b"\x00" * 8 + data[-4:]),
        ("magic.parquet", b"PAR1" + b"\x00" * 100),
    ):
        path = tmp_path / name
        path.write_bytes(damaged)
        with pytest.raises(BarsFormatError) as exc:
            load_bars(path)
        check_error(exc, path, None, None, "cannot be read as Parquet")
