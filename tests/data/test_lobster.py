"""Tests of signalbench.data.lobster on LOBSTER's real sample files and on broken files made from them.

Expected values are computed here from the raw CSV text with the csv module and integer arithmetic, independently
of the loader's parser.
"""

from __future__ import annotations

import csv
import random
import shutil
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalbench.data._errors import DataFormatError
from signalbench.data.lobster import LobsterFormatError, load_lobster

DATE = "2012-06-21"
SAMPLES = {
    # ticker: (zip name, levels, events)
    "AMZN": ("LOBSTER_SampleFile_AMZN_2012-06-21_1.zip", 1, 57_515),
    "GOOG": ("LOBSTER_SampleFile_GOOG_2012-06-21_5.zip", 5, 112_673),
}
MESSAGE_COLUMNS = ["type", "order_id", "size", "price", "direction", "halt", "day"]


def book_columns(levels: int) -> list[str]:
    return [f"{f}_{i}" for i in range(1, levels + 1) for f in ("ask_price", "ask_size", "bid_price", "bid_size")]


def names(ticker: str, levels: int, date: str = DATE) -> tuple[str, str]:
    stem = f"{ticker}_{date}_34200000_57600000"
    return f"{stem}_message_{levels}.csv", f"{stem}_orderbook_{levels}.csv"


def expected_ns(time_text: str, date: str = DATE) -> int:
    """Nanoseconds since the epoch from LOBSTER's decimal text, with Python integers only."""
    sec, _, frac = time_text.partition(".")
    midnight = int(pd.Timestamp(date).value)
    return midnight + int(sec) * 1_000_000_000 + int((frac + "0" * 9)[:9])


# ------------------------------------------------------------------------------------------------------------------
# Fixtures: the real files, extracted once per module, and their raw rows read with the csv module
# ------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lobster_dir(shared_data: Path) -> Path:
    return shared_data / "lobster"


@pytest.fixture(scope="module")
def extracted(lobster_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    out = {}
    for ticker, (zname, levels, _) in SAMPLES.items():
        folder = tmp_path_factory.mktemp(ticker.lower())
        msg, book = names(ticker, levels)
        with zipfile.ZipFile(lobster_dir / zname) as zf:
            for member in (msg, book):
                (folder / member).write_bytes(zf.read(member))
        out[ticker] = (folder / msg, folder / book)
    return out


@pytest.fixture(scope="module")
def raw(extracted: dict[str, tuple[Path, Path]]) -> dict[str, tuple[list[list[str]], list[list[str]]]]:
    out = {}
    for ticker, (msg, book) in extracted.items():
        with msg.open(newline="") as fm, book.open(newline="") as fb:
            out[ticker] = (list(csv.reader(fm)), list(csv.reader(fb)))
    return out


@pytest.fixture(scope="module")
def loaded(lobster_dir: Path) -> dict[str, pd.DataFrame]:
    return {t: load_lobster(lobster_dir / zname) for t, (zname, _, _) in SAMPLES.items()}


def write_pair(folder: Path, msg_rows, book_rows, *, ticker="AMZN", levels=1, date=DATE) -> tuple[Path, Path]:
    """Write message/order-book rows (lists of string fields, or raw lines) under LOBSTER's names."""
    folder.mkdir(parents=True, exist_ok=True)
    msg_name, book_name = names(ticker, levels, date)
    paths = (folder / msg_name, folder / book_name)
    for path, rows in zip(paths, (msg_rows, book_rows)):
        lines = [r if isinstance(r, str) else ",".join(r) for r in rows]
        path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return paths


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Exact equality (values, dtypes, index, columns, attrs); fast, with pandas' diagnostics on failure."""
    same = (
        got.index.equals(want.index)
        and list(got.columns) == list(want.columns)
        and (got.dtypes == want.dtypes).all()
        and got.equals(want)
        and got.attrs == want.attrs
    )
    if not same:
        pd.testing.assert_frame_equal(got, want)
        assert got.attrs == want.attrs


def copy_rows(rows: list[list[str]]) -> list[list[str]]:
    return [list(r) for r in rows]


# ------------------------------------------------------------------------------------------------------------------
# The real samples
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ticker", list(SAMPLES))
def test_sample_shape_columns_dtypes(loaded, ticker):
    _, levels, events = SAMPLES[ticker]
    df = loaded[ticker]
    assert df.shape == (events, len(MESSAGE_COLUMNS) + 4 * levels)
    assert list(df.columns) == MESSAGE_COLUMNS + book_columns(levels)
    assert isinstance(df.index, pd.DatetimeIndex)
    assert df.index.dtype == "datetime64[ns]" and df.index.tz is None and df.index.name == "timestamp"
    assert df.index.is_monotonic_increasing
    assert (df.index.normalize() == pd.Timestamp(DATE)).all()
    assert df.index[0] >= pd.Timestamp(f"{DATE} 09:30") and df.index[-1] < pd.Timestamp(f"{DATE} 16:00")
    expected = {"type": "int8", "order_id": "int64", "size": "int64", "price": "float64", "direction": "int8"}
    for col, dtype in expected.items():
        assert df[col].dtype == dtype, col
    assert df["halt"].dtype == bool and not df["halt"].any()
    assert df["day"].dtype == "datetime64[ns]" and (df["day"] == pd.Timestamp(DATE)).all()
    for col in book_columns(levels):
        assert df[col].dtype == "float64", col
    assert set(df["type"].unique()) <= {1, 2, 3, 4, 5}
    assert set(df["direction"].unique()) == {-1, 1}
    assert df.attrs == {"ticker": ticker, "levels": levels, "crossed_rows": 0}


@pytest.mark.parametrize("ticker", list(SAMPLES))
def test_sample_prices_in_dollars_and_book_not_crossed(loaded, ticker):
    df = loaded[ticker]
    _, levels, _ = SAMPLES[ticker]
    lo, hi = {"AMZN": (200, 250), "GOOG": (550, 600)}[ticker]  # the 2012 price ranges, in dollars
    assert df["price"].between(lo, hi).all()
    assert (df["ask_price_1"] > df["bid_price_1"]).all()
    for i in range(1, levels):
        assert (df[f"ask_price_{i + 1}"] > df[f"ask_price_{i}"]).all()
        assert (df[f"bid_price_{i + 1}"] < df[f"bid_price_{i}"]).all()
    book = df[book_columns(levels)]
    assert book.notna().all().all()  # the samples have no empty levels
    assert (df[[f"ask_size_{i}" for i in range(1, levels + 1)]] > 0).all().all()


@pytest.mark.parametrize("ticker", list(SAMPLES))
def test_sample_matches_raw_csv_everywhere(loaded, raw, ticker):
    df = loaded[ticker]
    msg_rows, book_rows = raw[ticker]
    # Every timestamp, to the nanosecond, from the decimal text.
    want = np.array([expected_ns(r[0]) for r in msg_rows], dtype=np.int64)
    np.testing.assert_array_equal(df.index.asi8, want)
    msg = np.array([[int(x) for x in r[1:]] for r in msg_rows], dtype=np.int64)
    np.testing.assert_array_equal(df["type"].to_numpy(), msg[:, 0])
    np.testing.assert_array_equal(df["order_id"].to_numpy(), msg[:, 1])
    np.testing.assert_array_equal(df["size"].to_numpy(), msg[:, 2])
    np.testing.assert_array_equal(df["price"].to_numpy(), msg[:, 3] / 10_000)
    np.testing.assert_array_equal(df["direction"].to_numpy(), msg[:, 4])
    book = np.array([[int(x) for x in r] for r in book_rows], dtype=np.int64)
    levels = book.shape[1] // 4
    for j, col in enumerate(book_columns(levels)):
        scale = 10_000 if "price" in col else 1
        np.testing.assert_array_equal(df[col].to_numpy(), book[:, j] / scale, err_msg=col)


@pytest.mark.parametrize("ticker", list(SAMPLES))
def test_sample_known_rows(loaded, raw, ticker):
    """Row 1 and a middle row, spelled out from the raw text (the row numbers of the error messages)."""
    df = loaded[ticker]
    msg_rows, book_rows = raw[ticker]
    for i in (0, len(msg_rows) // 2, len(msg_rows) - 1):
        t, etype, oid, size, price, direction = msg_rows[i]
        sec, _, frac = t.partition(".")
        stamp = pd.Timestamp(DATE) + pd.Timedelta(seconds=int(sec)) + pd.Timedelta(int(frac.ljust(9, "0")), "ns")
        assert df.index[i] == stamp
        row = df.iloc[i]
        assert (row["type"], row["order_id"], row["size"], row["direction"]) == tuple(
            int(x) for x in (etype, oid, size, direction)
        )
        assert row["price"] == float(Decimal(price) / 10_000)
        assert row["ask_price_1"] == int(book_rows[i][0]) / 10_000
        assert row["bid_size_1"] == int(book_rows[i][3])
    if ticker == "AMZN":  # the first message, copied from the file by hand
        assert df.index[0] == pd.Timestamp("2012-06-21 09:30:00.017459617")
        assert df["price"].iloc[0] == 223.82 and df["ask_price_1"].iloc[0] == 223.95


@pytest.mark.parametrize("ticker", list(SAMPLES))
def test_zip_csv_pair_folder_and_single_csv_agree(loaded, extracted, ticker):
    msg, book = extracted[ticker]
    want = loaded[ticker]
    assert_same_frame(load_lobster((msg, book)), want)
    assert_same_frame(load_lobster((str(msg), str(book))), want)
    assert_same_frame(load_lobster(msg.parent), want)
    assert_same_frame(load_lobster(msg), want)
    assert_same_frame(load_lobster(book), want)


def test_levels_keeps_the_first_k(loaded, lobster_dir):
    full = loaded["GOOG"]
    two = load_lobster(lobster_dir / SAMPLES["GOOG"][0], levels=2)
    assert list(two.columns) == MESSAGE_COLUMNS + book_columns(2)
    pd.testing.assert_frame_equal(two, full[MESSAGE_COLUMNS + book_columns(2)], check_like=False, check_flags=False)
    assert two.attrs["levels"] == 2
    with pytest.raises(ValueError, match=r"levels: expected at most the 5 level\(s\) of .*orderbook_5.csv, got 6"):
        load_lobster(lobster_dir / SAMPLES["GOOG"][0], levels=6)
    for bad in (0, -1):
        with pytest.raises(ValueError, match=r"levels: expected an integer >= 1 or None, got"):
            load_lobster(lobster_dir / SAMPLES["GOOG"][0], levels=bad)
    for bad in (1.5, True, "2", [2]):  # a wrong kind is a TypeError
        with pytest.raises(TypeError, match=r"levels: expected an integer >= 1 or None, got"):
            load_lobster(lobster_dir / SAMPLES["GOOG"][0], levels=bad)


def test_pair_given_in_wrong_order(extracted):
    msg, book = extracted["AMZN"]
    with pytest.raises(LobsterFormatError, match="first file of the pair must be the message file"):
        load_lobster((book, msg))


def test_bad_arguments(extracted, tmp_path):
    msg, book = extracted["AMZN"]
    with pytest.raises(ValueError, match="crossed: expected one of 'raise', 'drop', 'keep', got 'ignore'"):
        load_lobster((msg, book), crossed="ignore")
    with pytest.raises(ValueError, match="did you mean 'drop'"):
        load_lobster((msg, book), crossed="dorp")
    with pytest.raises(TypeError, match="crossed: expected one of"):
        load_lobster((msg, book), crossed=1)
    with pytest.raises(FileNotFoundError):
        load_lobster(tmp_path / "nope.zip")
    with pytest.raises(ValueError, match=r"path: expected a \(message, orderbook\) pair of two paths, got 3 items"):
        load_lobster((msg, book, msg))
    with pytest.raises(TypeError, match="path: expected a path"):
        load_lobster(42)
    with pytest.raises(TypeError, match="path: expected a path"):
        load_lobster([msg.parent, 3])
    with pytest.raises(TypeError, match=r"path: expected a \(message, orderbook\) pair"):
        load_lobster((msg, 3))
    with pytest.raises(ValueError, match="path: expected .* got an empty list"):
        load_lobster([])


# ------------------------------------------------------------------------------------------------------------------
# A corpus of broken files made from the real AMZN sample
# ------------------------------------------------------------------------------------------------------------------


def assert_error(exc_info, file_name: str, row: int | None, *words: str) -> None:
    err = exc_info.value
    text = str(err)
    assert isinstance(err, ValueError) and isinstance(err, DataFormatError)
    assert file_name in text, text
    if row is not None:
        assert f"row {row}" in text, text
        assert err.row == row
    for word in words:
        assert word in text, text


def test_truncated_order_book(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    pair = write_pair(tmp_path, msg_rows, book_rows[:-15])
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, len(book_rows) - 15 + 1, "57515", str(len(book_rows) - 15))


def test_truncated_message_file(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    pair = write_pair(tmp_path, msg_rows[:1000], book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 1001, "1000", "57515")


def test_shuffled_rows_time_goes_backwards(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    order = list(range(len(msg_rows)))
    block = order[20_000:20_200]
    random.Random(7).shuffle(block)
    order[20_000:20_200] = block
    msg = [msg_rows[i] for i in order]
    book = [book_rows[i] for i in order]
    times = [Decimal(r[0]) for r in msg]
    first_back = next(k for k in range(1, len(times)) if times[k] < times[k - 1])
    pair = write_pair(tmp_path, msg, book)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, first_back + 1, "time goes backwards", msg[first_back][0])
    assert exc.value.column == "time"


def test_crossed_and_locked_rows_raise_drop_keep(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    book = copy_rows(book_rows)
    book[499][0] = book[499][2]  # locked: best ask == best bid (row 500)
    book[699][0] = str(int(book[699][2]) - 100)  # crossed: best ask < best bid (row 700)
    pair = write_pair(tmp_path, msg_rows, book)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 500, "crossed or locked", "2 such row")

    dropped = load_lobster(pair, crossed="drop")
    assert len(dropped) == len(msg_rows) - 2
    keep_ns = [expected_ns(r[0]) for k, r in enumerate(msg_rows) if k not in (499, 699)]
    np.testing.assert_array_equal(dropped.index.asi8, keep_ns)
    assert (dropped["ask_price_1"] > dropped["bid_price_1"]).all()
    assert dropped.attrs["crossed_rows"] == 2

    kept = load_lobster(pair, crossed="keep")
    assert len(kept) == len(msg_rows)
    assert kept["ask_price_1"].iloc[499] == kept["bid_price_1"].iloc[499]
    assert kept["ask_price_1"].iloc[699] == (int(book_rows[699][2]) - 100) / 10_000
    assert (kept["ask_price_1"] <= kept["bid_price_1"]).sum() == 2
    assert kept.attrs["crossed_rows"] == 2


def test_wrong_column_count(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    msg = copy_rows(msg_rows)
    msg[299].append("1")  # row 300 has 7 fields
    pair = write_pair(tmp_path / "extra", msg, book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, 300, "7 columns, expected 6")

    book = copy_rows(book_rows)
    book[4999] = book[4999][:3]  # row 5000 of the book has 3 fields
    pair = write_pair(tmp_path / "short", msg_rows, book)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 5000, "3 columns, expected 4")


def test_non_numeric_cell(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    msg = copy_rows(msg_rows)
    msg[1233][3] = "abc"
    pair = write_pair(tmp_path / "msg", msg, book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, 1234, "'abc'", "column 4")

    book = copy_rows(book_rows)
    book[77][1] = "1.5"
    pair = write_pair(tmp_path / "book", msg_rows, book)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 78, "'1.5'", "integer")


@pytest.mark.parametrize("bad_time", ["34200.1.2", "abc", "34200.1234567891", "-5.0", "3.42e4", "", "34200."])
def test_malformed_time(raw, tmp_path, bad_time):
    msg_rows, book_rows = raw["AMZN"]
    msg = copy_rows(msg_rows)
    msg[9][0] = bad_time
    pair = write_pair(tmp_path, msg, book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, 10)


def test_time_past_midnight(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    msg = copy_rows(msg_rows)
    msg[-1][0] = "86400.5"
    pair = write_pair(tmp_path, msg, book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, len(msg), "within a day")


@pytest.mark.parametrize(("column", "value", "words"), [(1, "9", "type"), (5, "0", "direction"), (3, "-5", "size")])
def test_invalid_message_field(raw, tmp_path, column, value, words):
    msg_rows, book_rows = raw["AMZN"]
    msg = copy_rows(msg_rows)
    msg[41][column] = value
    msg[9000][column] = value
    pair = write_pair(tmp_path, msg, book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, 42, words, "2 such rows")
    assert exc.value.column == words


def test_empty_files(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    pair = write_pair(tmp_path / "m", [], book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, None, "empty")
    pair = write_pair(tmp_path / "b", msg_rows, ["", ""])
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, None, "empty")


def test_blank_line_inside_a_file(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    msg = [",".join(r) for r in msg_rows]
    msg.insert(600, "")
    pair = write_pair(tmp_path, msg, book_rows)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, 601, "malformed row")


def test_trailing_newlines_and_crlf_are_fine(raw, loaded, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    msg_name, book_name = names("AMZN", 1)
    (tmp_path / msg_name).write_bytes(("\r\n".join(",".join(r) for r in msg_rows) + "\r\n\r\n").encode())
    (tmp_path / book_name).write_bytes(("\n".join(",".join(r) for r in book_rows) + "\n\n").encode())
    assert_same_frame(load_lobster(tmp_path), loaded["AMZN"])


def test_not_lobster_at_all(tmp_path):
    random_csv = tmp_path / "prices.csv"
    random_csv.write_text("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n")
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(random_csv)
    assert_error(exc, "prices.csv", None, "not a LOBSTER file")

    other = tmp_path / "other_2024-01-02.csv"
    shutil.copy(random_csv, other)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster((other, random_csv))
    assert_error(exc, other.name, 1, "not a LOBSTER message file", "no header")

    archive = tmp_path / "stuff.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("prices.csv", random_csv.read_text())
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(archive)
    assert_error(exc, "stuff.zip", None, "no LOBSTER message/orderbook pair", "prices.csv")

    folder = tmp_path / "empty_folder"
    folder.mkdir()
    with pytest.raises(LobsterFormatError, match="no LOBSTER files found"):
        load_lobster(folder)

    nodate = tmp_path / "messages.csv"
    nodate.write_text("34200.1,1,1,100,2238200,1\n")
    with pytest.raises(LobsterFormatError, match="trading date"):
        load_lobster((nodate, random_csv))


def test_zip_with_only_half_a_pair(raw, tmp_path, lobster_dir):
    msg_name, book_name = names("AMZN", 1)
    archive = tmp_path / "half.zip"
    with zipfile.ZipFile(lobster_dir / SAMPLES["AMZN"][0]) as src, zipfile.ZipFile(archive, "w") as dst:
        dst.writestr(msg_name, src.read(msg_name))
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(archive)
    assert_error(exc, msg_name, None, "no matching orderbook file")


def test_errors_inside_a_zip_name_archive_and_member(raw, tmp_path):
    msg_rows, book_rows = raw["AMZN"]
    msg_name, book_name = names("AMZN", 1)
    msg = copy_rows(msg_rows)
    msg[2][1] = "8"
    archive = tmp_path / "broken.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(msg_name, "\n".join(",".join(r) for r in msg) + "\n")
        zf.writestr(book_name, "\n".join(",".join(r) for r in book_rows) + "\n")
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(archive)
    assert_error(exc, f"broken.zip:{msg_name}", 3, "type")


def test_level_count_differs_from_file_name(raw, tmp_path):
    msg_rows, book_rows = raw["GOOG"]
    pair = write_pair(tmp_path, msg_rows[:100], book_rows[:100], ticker="GOOG", levels=4)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 1, "20 columns", "says 4")


# ------------------------------------------------------------------------------------------------------------------
# Empty levels, impossible books, trading halts (made from the GOOG sample)
# ------------------------------------------------------------------------------------------------------------------

N_SMALL = 3000


def test_empty_levels_become_nan(raw, tmp_path):
    msg_rows, book_rows = raw["GOOG"]
    book = copy_rows(book_rows[:N_SMALL])
    book[10][16:18] = ["9999999999", "0"]  # ask level 5 empty
    book[11][14:16] = ["-9999999999", "0"]  # bid level 4 empty ...
    book[11][18:20] = ["-9999999999", "0"]  # ... and so level 5 too
    pair = write_pair(tmp_path, msg_rows[:N_SMALL], book, ticker="GOOG", levels=5)
    df = load_lobster(pair)
    assert np.isnan(df["ask_price_5"].iloc[10]) and np.isnan(df["ask_size_5"].iloc[10])
    assert df["bid_price_5"].iloc[10] == int(book[10][18]) / 10_000
    for col in ("bid_price_4", "bid_size_4", "bid_price_5", "bid_size_5"):
        assert np.isnan(df[col].iloc[11]), col
    assert df[book_columns(5)].isna().sum().sum() == 2 + 4
    # Keeping 3 levels leaves no NaN at all.
    assert not load_lobster(pair, levels=3)[book_columns(3)].isna().any().any()


@pytest.mark.parametrize(
    ("col", "value", "column", "words"),
    [
        (17, "5", "ask_size_5", "0 on an empty level"),  # placeholder price with a size
        (0, "0", "ask_price_1", "expected > 0"),
        (2, "-5", "bid_price_1", "expected > 0"),
        (3, "-1", "bid_size_1", "size -1"),
    ],
)
def test_impossible_book_values(raw, tmp_path, col, value, column, words):
    msg_rows, book_rows = raw["GOOG"]
    book = copy_rows(book_rows[:N_SMALL])
    if col == 17:
        book[2000][16] = "9999999999"
    book[2000][col] = value
    pair = write_pair(tmp_path, msg_rows[:N_SMALL], book, ticker="GOOG", levels=5)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 2001, words, column)
    assert exc.value.column == column


def test_levels_out_of_order_or_with_gaps(raw, tmp_path):
    msg_rows, book_rows = raw["GOOG"]
    book = copy_rows(book_rows[:N_SMALL])
    book[500][0], book[500][4] = book[500][4], book[500][0]  # ask levels 1 and 2 swapped
    pair = write_pair(tmp_path / "swap", msg_rows[:N_SMALL], book, ticker="GOOG", levels=5)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 501, "ask_price_2", "does not rise")

    book = copy_rows(book_rows[:N_SMALL])
    book[800][6:8] = ["-9999999999", "0"]  # bid level 2 empty, level 3 occupied
    pair = write_pair(tmp_path / "gap", msg_rows[:N_SMALL], book, ticker="GOOG", levels=5)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[1].name, 801, "bid_price_3", "level 2 is empty")


def test_trading_halt_is_kept_and_marked(raw, tmp_path):
    msg_rows, book_rows = raw["GOOG"]
    msg = copy_rows(msg_rows[:N_SMALL])
    for k, code in ((1000, "-1"), (1500, "0"), (2000, "1")):
        msg[k] = [msg[k][0], "7", "0", "0", code, "-1"]
    pair = write_pair(tmp_path, msg, book_rows[:N_SMALL], ticker="GOOG", levels=5)
    df = load_lobster(pair)
    assert len(df) == N_SMALL
    assert list(np.flatnonzero(df["type"].to_numpy() == 7)) == [1000, 1500, 2000]
    halted = np.zeros(N_SMALL, dtype=bool)
    halted[1000:2000] = True  # from the halt message up to, not including, the resume message
    np.testing.assert_array_equal(df["halt"].to_numpy(), halted)
    assert df["price"].iloc[[1000, 1500, 2000]].isna().all()
    assert df["price"].drop(df.index[[1000, 1500, 2000]]).notna().all()

    msg[1500][4] = "2"  # not a halt code
    pair = write_pair(tmp_path / "bad", msg, book_rows[:N_SMALL], ticker="GOOG", levels=5)
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(pair)
    assert_error(exc, pair[0].name, 1501, "halt code")


# ------------------------------------------------------------------------------------------------------------------
# Several days
# ------------------------------------------------------------------------------------------------------------------


def test_several_days_load_in_date_order(extracted, loaded, lobster_dir, tmp_path):
    msg, book = extracted["AMZN"]
    second = tmp_path / "day2"
    second.mkdir()
    msg2, book2 = (second / n for n in names("AMZN", 1, "2012-06-22"))
    shutil.copy(msg, msg2)
    shutil.copy(book, book2)
    one = loaded["AMZN"]
    n = len(one)
    both = load_lobster([(msg2, book2), lobster_dir / SAMPLES["AMZN"][0]])  # out of order on purpose
    assert len(both) == 2 * n
    assert both.index.is_monotonic_increasing
    days = both["day"].to_numpy()
    assert (days[:n] == np.datetime64("2012-06-21")).all() and (days[n:] == np.datetime64("2012-06-22")).all()
    assert_same_frame(both.iloc[:n], one)
    shifted = one.index + pd.Timedelta(days=1)
    np.testing.assert_array_equal(both.index[n:].asi8, shifted.asi8)
    np.testing.assert_array_equal(both["price"].to_numpy()[n:], one["price"].to_numpy())

    # A folder holding both days, as a zip and as a CSV pair.
    folder = tmp_path / "both"
    folder.mkdir()
    shutil.copy(lobster_dir / SAMPLES["AMZN"][0], folder)
    shutil.copy(msg2, folder)
    shutil.copy(book2, folder)
    (folder / "README.txt").write_text("notes")  # other files, and zips without LOBSTER files, are ignored
    with zipfile.ZipFile(folder / "other.zip", "w") as zf:
        zf.writestr("notes.txt", "hello")
    assert_same_frame(load_lobster(folder), both)

    with pytest.raises(LobsterFormatError, match="same trading day 2012-06-21"):
        load_lobster([msg.parent, lobster_dir / SAMPLES["AMZN"][0]])


def test_several_days_must_share_ticker_and_levels(extracted, raw, lobster_dir, tmp_path):
    with pytest.raises(LobsterFormatError, match="one ticker at a time, got AMZN, GOOG"):
        load_lobster(lobster_dir)
    msg_rows, book_rows = raw["GOOG"]
    pair = write_pair(tmp_path, msg_rows[:N_SMALL], book_rows[:N_SMALL], ticker="AMZN", levels=5, date="2012-06-22")
    with pytest.raises(ValueError, match="levels: expected None only when all days have the same number .*levels=k"):
        load_lobster([extracted["AMZN"], pair])
    df = load_lobster([extracted["AMZN"], pair], levels=1)
    assert list(df.columns) == MESSAGE_COLUMNS + book_columns(1)
    assert len(df) == SAMPLES["AMZN"][2] + N_SMALL


# ------------------------------------------------------------------------------------------------------------------
# Exact time parsing, property-based (no real data needed)
# ------------------------------------------------------------------------------------------------------------------


def lobster_time_text(ns_of_day: int, style: str) -> str:
    sec, frac = divmod(ns_of_day, 1_000_000_000)
    digits = f"{frac:09d}"
    if style == "trimmed":  # how LOBSTER writes it: trailing zeros dropped (down to an integer when all zero)
        digits = digits.rstrip("0")
    elif style == "padded":
        digits += "000"
    return f"{sec}.{digits}" if digits else str(sec)


@given(
    st.lists(st.integers(0, 86_400 * 10**9 - 1), min_size=1, max_size=30),
    st.sampled_from(["trimmed", "nine", "padded"]),
)
def test_times_parse_exactly_to_the_nanosecond(ns_values, style):
    ns_values = sorted(ns_values)
    msg = [f"{lobster_time_text(v, style)},1,{k + 1},100,1000000,1" for k, v in enumerate(ns_values)]
    book = ["1000100,100,1000000,200"] * len(ns_values)
    with tempfile.TemporaryDirectory() as tmp:
        pair = write_pair(Path(tmp), msg, book, ticker="TEST", date="2020-03-09")
        df = load_lobster(pair)
    midnight = pd.Timestamp("2020-03-09").value
    np.testing.assert_array_equal(df.index.asi8, [midnight + v for v in ns_values])
    assert (df["price"] == 100.0).all() and (df["ask_price_1"] == 100.01).all()


def test_nine_decimals_at_the_end_of_the_day(tmp_path):
    msg = ["57599.123456789,1,1,100,1000000,1", "86399.999999999,1,2,100,1000000,1"]
    pair = write_pair(tmp_path, msg, ["1000100,100,1000000,200"] * 2, date="2012-06-21")
    index = load_lobster(pair).index
    assert index[0] == pd.Timestamp("2012-06-21 15:59:59.123456789")
    assert index[1] == pd.Timestamp("2012-06-21 23:59:59.999999999")


# ------------------------------------------------------------------------------------------------------------------
# Damaged archives: the library's error naming the archive and the member, never zipfile's or zlib's
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_copy_of_the_real_zip(lobster_dir, tmp_path, keep):
    data = (lobster_dir / SAMPLES["AMZN"][0]).read_bytes()
    archive = tmp_path / "AMZN_truncated.zip"
    archive.write_bytes(data[: int(len(data) * keep)])
    # which member the cut falls in, from the original archive's own directory
    with zipfile.ZipFile(lobster_dir / SAMPLES["AMZN"][0]) as zf:
        starts = sorted((info.header_offset, info.filename) for info in zf.infolist())
    member = [name for offset, name in starts if offset < len(data) * keep][-1]
    for path in (archive, tmp_path):  # the zip itself, and a folder holding it
        with pytest.raises(LobsterFormatError) as exc:
            load_lobster(path)
        assert_error(exc, f"AMZN_truncated.zip:{member}", None, "truncated")
        assert exc.value.path == f"{archive}:{member}"


@pytest.mark.parametrize("where", ["message", "orderbook"])
def test_corrupted_member_data_names_archive_and_member(lobster_dir, tmp_path, where):
    source = lobster_dir / SAMPLES["AMZN"][0]
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as zf:
        info = next(i for i in zf.infolist() if f"_{where}_" in i.filename)
    # flip bytes in the middle of the member's compressed data (the directory at the end stays intact)
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    for k in range(64):
        data[middle + k] ^= 0x5A
    archive = tmp_path / "AMZN_corrupt.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(archive)
    assert_error(exc, f"AMZN_corrupt.zip:{info.filename}", None, "damaged")
    assert exc.value.path == f"{archive}:{info.filename}"


def test_a_file_named_zip_that_is_not_one(tmp_path):
    fake = tmp_path / "AMZN_2012-06-21.zip"
    fake.write_bytes(b"this is not an archive at all")
    with pytest.raises(LobsterFormatError) as exc:
        load_lobster(fake)
    assert_error(exc, "AMZN_2012-06-21.zip", None, "not a readable zip archive")
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(LobsterFormatError, match="empty.zip: not a readable zip archive"):
        load_lobster(empty)
