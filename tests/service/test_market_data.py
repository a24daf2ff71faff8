"""GET /api/v1/market-data/{symbol} on the real server over a real LOBSTER sample: pages cover every row of a range
exactly once and equal the loader's frame, features equal the feature function on the piece, 404/422 name what is
wrong, and no file outside the allowed roots is served."""

from __future__ import annotations

import json
import shutil
import urllib.parse

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from signalbench.service import db, keys, migrate
from signalbench.service.importer import import_runs
from signalbench.service.state import Service
from tests.conftest import require_shared_data
from tests.service.conftest import Client, Server, write_run

AMZN = "LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"
START, END = "2012-06-21T10:00:00", "2012-06-21T10:05:00"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A runs folder whose one run names the AMZN sample (copied under the runs' parent), a --data folder of one
    bars file and a symbolic link leading outside it, and a second run whose data lie outside the allowed roots."""
    sample = require_shared_data() / "lobster" / AMZN
    root = tmp_path_factory.mktemp("market")
    outside = tmp_path_factory.mktemp("outside")
    (root / "data").mkdir()
    shutil.copy(sample, root / "data" / AMZN)
    shutil.copy(sample, outside / AMZN.replace("AMZN", "EVIL"))
    extra = root / "extra"
    extra.mkdir()
    times = pd.date_range("2024-03-04 09:30", periods=50, freq="1min")
    bars = pd.DataFrame({"timestamp": times, "open": 10.0, "high": 11.0, "low": 9.0, "close": 10.0, "volume": 5})
    bars.to_csv(extra / "BARS_1min.csv", index=False)
    secret = outside / "SECRET_1min.csv"
    bars.to_csv(secret, index=False)
    (extra / "SECRET_1min.csv").symlink_to(secret)
    pair = "LEAK_2012-06-21_34200000_57600000_{}_1.csv"
    (extra / pair.format("message")).write_text("")
    (outside / pair.format("orderbook")).write_text("")
    (extra / pair.format("orderbook")).symlink_to(outside / pair.format("orderbook"))  # half of a pair leads out
    runs = root / "runs"
    runs.mkdir()
    write_run(
        runs, "amzn-20260101T000000Z", sharpe={"lstm:sign": 1.0}, data={"kind": "lobster", "path": f"data/{AMZN}"}
    )
    evil = {"kind": "lobster", "path": f"../{outside.name}/{AMZN.replace('AMZN', 'EVIL')}"}
    write_run(runs, "evil-20260102T000000Z", sharpe={"lstm:sign": 1.0}, data=evil)
    engine = db.make_engine(f"sqlite:///{root / 'service.sqlite'}")
    migrate.upgrade(engine)
    assert len(import_runs(engine, runs).imported) == 2
    svc = Service(engine=engine, url=str(engine.url), runs_dir=runs, data_dirs=[extra])
    server = Server(svc)
    base = server.__enter__()
    try:
        yield Client(base, keys.create_key(engine, "reader", ["read"])), root
    finally:
        server.__exit__()
        engine.dispose()


def _loaded(root):
    """The AMZN piece as the library loads it (its own loader, not the service's)."""
    from signalbench.data import load_lobster

    return load_lobster(str(root / "data" / AMZN))


def _pages(client, path: str, **params) -> tuple[list[dict], list[str]]:
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        status, body = client.json("GET", f"{path}?{urllib.parse.urlencode(query)}")
        assert status == 200, body
        pages.append(body)
        cursor = body["next_cursor"]
        if cursor is None:
            return pages, body["columns"]


def test_pages_cover_every_row_of_the_range_once_and_equal_the_loaders_frame(setup):
    client, root = setup
    pages, columns = _pages(client, "/api/v1/market-data/AMZN", start=START, end=END, limit=700)
    rows = [r for p in pages for r in p["rows"]]
    got = pd.DataFrame(rows, columns=columns)
    frame = _loaded(root)
    inside = (frame.index >= pd.Timestamp(START)) & (frame.index < pd.Timestamp(END))
    want = frame[inside]
    assert len(pages) == -(-len(want) // 700) and all(len(p["rows"]) == 700 for p in pages[:-1])
    assert got["row"].tolist() == np.flatnonzero(inside).tolist()  # every row once, in order, none outside
    assert (pd.to_datetime(got["timestamp"]) == want.index).all()
    for name in ("ask_price_1", "bid_price_1", "ask_size_1", "bid_size_1", "size", "direction"):
        np.testing.assert_array_equal(got[name].to_numpy(dtype=float), want[name].to_numpy(dtype=float))
    mid = (want["ask_price_1"] + want["bid_price_1"]) / 2
    np.testing.assert_allclose(got["mid"].to_numpy(dtype=float), mid.to_numpy(), rtol=1e-12)


def test_features_equal_the_feature_function_on_the_piece_and_arrow_equals_json(setup):
    from signalbench.data.features import compute_features

    client, root = setup
    params = {"kind": "features", "features": "lob_basic", "start": START, "end": END, "limit": 10_000}
    pages, columns = _pages(client, "/api/v1/market-data/AMZN", **params)
    assert len(pages) == 1
    got = pd.DataFrame(pages[0]["rows"], columns=columns)
    frame = _loaded(root)
    want = compute_features(frame, "lob_basic")  # on the whole day: the range is a slice of it
    want = want[(want.index >= pd.Timestamp(START)) & (want.index < pd.Timestamp(END))]
    assert columns[3:] == list(want.columns)
    np.testing.assert_array_equal(got[columns[3:]].to_numpy(dtype=float), want.to_numpy())
    query = urllib.parse.urlencode(params)
    status, headers, raw = client.call(
        "GET", f"/api/v1/market-data/AMZN?{query}", headers={"Accept": "application/vnd.apache.arrow.stream"}
    )
    assert status == 200 and headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(raw).read_all().to_pandas()
    np.testing.assert_array_equal(table[columns[3:]].to_numpy(dtype=float), want.to_numpy())


def test_the_data_folder_serves_its_files_and_lists_what_it_refused(setup):
    client, _ = setup
    status, listing = client.json("GET", "/api/v1/market-data")
    assert status == 200 and listing["symbols"] == {"AMZN": ["2012-06-21"], "BARS": ["2024-03-04"]}
    refused = " ".join(f"{r['source']} {r['reason']}" for r in listing["refused"])
    assert "SECRET" in refused and "LEAK" in refused and "evil-20260102T000000Z" in refused
    assert all("outside the allowed roots" in r["reason"] for r in listing["refused"]), listing["refused"]
    pages, columns = _pages(client, "/api/v1/market-data/BARS", limit=20)
    assert [len(p["rows"]) for p in pages] == [20, 20, 10]
    assert [r[2] for p in pages for r in p["rows"]] == list(range(50))


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("/api/v1/market-data/NOPE", 404, "symbol"),
        ("/api/v1/market-data/SECRET", 404, "symbol"),  # a symlink out of the --data folder
        ("/api/v1/market-data/EVIL", 404, "symbol"),  # a run's data outside the allowed roots
        ("/api/v1/market-data/LEAK", 404, "symbol"),  # an order-book file linked from outside
        ("/api/v1/market-data/AMZN?day=2012-06-22", 404, "day"),
        ("/api/v1/market-data/AMZN?day=June", 422, "day"),
        ("/api/v1/market-data/AMZN?start=yesterday", 422, "start"),
        (f"/api/v1/market-data/AMZN?start={END}&end={START}", 422, "end"),
        ("/api/v1/market-data/AMZN?start=2012-06-21T10:00:00%2B00:00", 422, "start"),
        ("/api/v1/market-data/AMZN?kind=features&features=lob_basik", 422, "features"),
        ("/api/v1/market-data/AMZN?kind=features", 422, "features"),
        ("/api/v1/market-data/AMZN?cursor=..%2F..%2Fetc", 422, "cursor"),
        ("/api/v1/market-data/AMZN?limit=100000", 422, "limit"),
        ("/api/v1/market-data/..%2F..%2Fetc%2Fpasswd", None, None),
        ("/api/v1/market-data/%2E%2E", 422, "symbol"),
    ],
)
def test_bad_requests_are_problems_naming_the_parameter(setup, path, status, named):
    client, _ = setup
    got, headers, raw = client.call("GET", path)
    assert headers["content-type"] == "application/problem+json" and b"root:" not in raw
    if status is None:  # an encoded traversal: no route or a refusal, never a file
        assert got in (404, 422)
        return
    body = json.loads(raw)
    assert got == status, body
    assert body["detail"].startswith(f"{named}:") or f"query.{named}" in str(body.get("errors")), body
    if named == "features" and "lob_basik" in path:
        assert "lob_basic" in body["detail"]  # did you mean


def test_market_data_needs_a_read_key(setup):
    client, _ = setup
    for path in ("/api/v1/market-data", "/api/v1/market-data/AMZN"):
        status, headers, _ = client.call("GET", path, key=None)
        assert status == 401 and headers["content-type"] == "application/problem+json"
