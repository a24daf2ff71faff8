"""``costs.model = "book"`` in a multi-piece run: each piece on its own book, its oracle, a pooled capacity curve."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from signalbench.compute import TaskStore
from signalbench.engine import book_backtest
from signalbench.experiment import compare

ROWS = 4000
COSTS = {"model": "book", "size": 100, "latency": "1ms", "fee_bps": 0.2, "capacity_sizes": [1, 100, 1000]}
COL = "ofi_sign:sign"


def _cut_samples(shared_data, tmp_path) -> list[str]:
    """Both LOBSTER samples (AMZN 1 level, GOOG 5), the first ``ROWS`` events of each, as folders of their files."""
    paths = []
    for z in sorted((shared_data / "lobster").glob("LOBSTER_SampleFile_*.zip")):
        folder = tmp_path / z.stem
        folder.mkdir()
        with zipfile.ZipFile(z) as zf:
            for name in (n for n in zf.namelist() if n.endswith(".csv")):
                lines = zf.read(name).decode().splitlines(keepends=True)[:ROWS]
                (folder / name).write_text("".join(lines))
        paths.append(str(folder))
    assert len(paths) == 2
    return paths


def config(paths) -> dict:
    return {
        "name": "book-pieces",
        "seed": 0,
        "device": "cpu",
        "data": {"kind": "lobster", "path": paths},  # every level of each file: GOOG walks 5, AMZN 1
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "holdout", "train": 0.6, "val": 0.2, "test": 0.2, "pool": "all"},
        "baselines": {"exclude": ["majority", "persistence", "logistic"]},
        "costs": COSTS,
        "models": [{"name": "ofi_sign"}],
        "strategies": [{"rule": "sign"}],
        "compute": {"workers": 1},
    }


@pytest.mark.filterwarnings("ignore::signalbench.engine.periods.ShortSampleWarning")  # the direct calls' short spans
def test_each_piece_is_priced_on_its_own_book_and_the_capacity_curve_is_pooled(shared_data, tmp_path):
    res = compare(config(_cut_samples(shared_data, tmp_path)), out=tmp_path / "run", report=True)
    assert res.ok
    m = res.metrics
    store = TaskStore(tmp_path / "run" / "tasks")
    tasks = {t.key: t for t in res.graph.tasks}
    direct: dict[str, dict[int, pd.Series]] = {}
    levels = {}
    for key in (k for k, t in tasks.items() if t.kind == "predict"):
        symbol = tasks[key].tags["symbol"]
        pred, piece = store.load(key), store.load(tasks[key].deps["piece"])
        levels[symbol] = sum(c.startswith("ask_price_") for c in piece["book"].columns)
        start, stop = pred["span"]
        proba = np.nan_to_num(pred["proba"])
        position = pd.DataFrame({COL: np.sign(proba[:, 2] - proba[:, 0]), "buy_and_hold": 1.0})
        price, book = piece["price"].iloc[start:stop], piece["book"].iloc[start:stop]
        position.index = price.index
        kw = {k: v for k, v in COSTS.items() if k not in ("model", "size", "capacity_sizes")}
        for size in (1, 100, 1000):
            stats = book_backtest(price, position, book, size=size, close_at_end=True, **kw).stats
            direct.setdefault(symbol, {})[size] = stats
    assert levels == {"AMZN": 1, "GOOG": 5}  # each piece carried its own book
    for symbol, by_size in direct.items():
        for col in (COL, "buy_and_hold"):
            row = m["per_symbol"][symbol][col]
            assert row["net_return"] == pytest.approx(by_size[100].loc["total_return_additive", col], abs=1e-12)
            assert row["rows_short_of_depth"] == by_size[100].loc["rows_short_of_depth", col]
    total = {size: sum(direct[s][size] for s in direct) for size in (1, 100, 1000)}
    pooled = m["pooled"][COL]
    assert pooled["rows_short_of_depth"] == total[100].loc["rows_short_of_depth", COL]
    oracle = total[100].loc["oracle_return_additive", COL]  # the exact book oracle, summed over the pieces
    assert oracle > 0 and pooled["signal_efficiency"] == pytest.approx(pooled["net_return"] / oracle, rel=1e-12)
    cap = m["capacity"]
    assert cap["sizes"] == [1, 100, 1000]
    for col in (COL, "buy_and_hold"):
        net = [total[s].loc["total_return_additive", col] for s in (1, 100, 1000)]
        assert cap["net_return"][col] == pytest.approx(net, abs=1e-12)
        assert cap["rows_short_of_depth"][col] == [total[s].loc["rows_short_of_depth", col] for s in (1, 100, 1000)]
        c = cap["capacity"][col]
        if net[0] <= 0:
            assert c == 0.0
        elif all(v > 0 for v in net):
            assert c is None or c == np.inf  # written as null: positive at every size
        else:
            i = next(i for i, v in enumerate(net) if v <= 0)
            assert [1, 100, 1000][i - 1] <= c <= [1, 100, 1000][i]
    assert cap["net_return"][COL][1] == pytest.approx(pooled["net_return"], abs=1e-12)
    assert "Capacity on the order book" in (tmp_path / "run" / "report.html").read_text()


def test_book_costs_refuse_a_piece_without_an_order_book():
    from signalbench.data.pieces import Piece
    from signalbench.experiment.config import ConfigError, parse_experiment
    from signalbench.experiment.multirun import validate_pieces

    exp = parse_experiment(
        {
            "name": "b",
            "data": {"kind": "synthetic", "n": 400},
            "costs": {"model": "book", "size": 10},
            "split": {"kind": "holdout"},
        }
    )
    pieces = [Piece("SPY", "2020-01-02", {"kind": "bars", "path": "spy.csv"})]
    with pytest.raises(ConfigError, match=r"costs.model: expected pieces with an order book, got bars at piece SPY/"):
        validate_pieces(exp, pieces)
