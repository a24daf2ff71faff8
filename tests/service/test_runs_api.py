"""GET /runs and the run endpoints on the real server, against SQLite and PostgreSQL: filters with AND, OR, NOT and
parentheses, sort by a metric (benchmarks left out, missing values last), a cursor stable under inserts."""

from __future__ import annotations

import pytest

from signalbench.service import keys
from signalbench.service.importer import import_runs
from tests.service.conftest import Client, write_run

R1, R2, R3, R4 = "alpha-20260101T000000Z", "beta-20260102T000000Z", "gamma-20260103T000000Z", "delta-20260104T000000Z"


@pytest.fixture
def four_runs(engine, runs_dir):
    write_run(runs_dir, R1, sharpe={"lstm:sign": 1.0, "lstm:threshold": 2.5}, horizon=1)
    write_run(runs_dir, R2, sharpe={"transformer:sign": 0.5}, model="transformer", horizon=5)
    write_run(
        runs_dir,
        R3,
        sharpe={"lstm:sign": -1.0},
        horizon=5,
        data={"kind": "lobster", "path": "data/LOBSTER_SampleFile_AMZN_2012-06-21_1.zip"},
    )
    write_run(runs_dir, R4, sharpe={"lstm:sign": None}, horizon=1)
    assert len(import_runs(engine, runs_dir).imported) == 4


@pytest.fixture
def client(engine, serve, four_runs):
    return Client(serve(), keys.create_key(engine, "tester", ["read"]))


def _ids(client, **params) -> list[str]:
    from urllib.parse import urlencode

    status, body = client.json("GET", "/api/v1/runs?" + urlencode(params))
    assert status == 200, body
    return [r["id"] for r in body["runs"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("model = lstm", {R1, R3, R4}),
        ("model = lstm and param.labels.horizon = 5", {R3}),
        ("model = transformer or metric.sharpe > 2", {R1, R2}),  # R1's best column: 2.5 (the oracle's 99 left out)
        ("(model = transformer or metric.sharpe > 2) and param.labels.horizon = 1", {R1}),
        ("model = transformer or metric.sharpe > 2 and param.labels.horizon = 5", {R2}),  # and binds tighter
        ("symbol = AMZN", {R3}),
        ("metric.sharpe@lstm:sign >= 1", {R1}),
        ("not model = lstm", {R2}),
        ("data_kind = lobster or name = 'delta'", {R3, R4}),
        ("metric.sharpe < 100", {R1, R2, R3}),  # R4 has no Sharpe at all
    ],
)
def test_filters_and_or_not(client, q, expected):
    assert set(_ids(client, q=q)) == expected


def test_sort_by_a_metric_leaves_benchmarks_out_and_missing_values_last(client):
    assert _ids(client, sort="-metric.sharpe") == [R1, R2, R3, R4]
    assert _ids(client, sort="metric.sharpe") == [R3, R2, R1, R4]
    assert _ids(client, sort="-metric.sharpe@lstm:sign") == [R1, R3, R4, R2]
    assert _ids(client, sort="-created") == [R4, R3, R2, R1]
    assert _ids(client, sort="-metric.sharpe", q="metric.sharpe > 0 or param.labels.horizon = 1") == [R1, R2, R4]


def test_cursor_pages_are_stable_under_inserts(client, engine, runs_dir):
    status, page = client.json("GET", "/api/v1/runs?sort=-metric.sharpe&limit=2")
    assert [r["id"] for r in page["runs"]] == [R1, R2]
    write_run(runs_dir, "new-20260105T000000Z", sharpe={"lstm:sign": 1.7})  # sorts between R1 and R2
    write_run(runs_dir, "newer-20260106T000000Z", sharpe={"lstm:sign": -5.0})  # sorts after R3
    import_runs(engine, runs_dir)
    status, rest = client.json("GET", f"/api/v1/runs?sort=-metric.sharpe&limit=2&cursor={page['next_cursor']}")
    assert [r["id"] for r in rest["runs"]] == [R3, "newer-20260106T000000Z"]
    status, last = client.json("GET", f"/api/v1/runs?sort=-metric.sharpe&limit=2&cursor={rest['next_cursor']}")
    assert [r["id"] for r in last["runs"]] == [R4] and last["next_cursor"] is None


def test_bad_filter_sort_and_cursor_are_problems_naming_the_parameter(client):
    for query, name in (
        ("q=metric.sharpe%20%3E", "q"),
        ("q=colour%20%3D%20red", "q"),
        ("sort=sharpe", "sort"),
        ("cursor=nonsense", "cursor"),
        ("limit=0", "query.limit"),
    ):
        status, headers, raw = client.call("GET", f"/api/v1/runs?{query}")
        assert status == 422 and headers["content-type"] == "application/problem+json", raw
        assert name in raw.decode()


def test_run_detail_metrics_report_artifacts(client, runs_dir):
    status, run = client.json("GET", f"/api/v1/runs/{R3}")
    assert status == 200 and run["symbols"] == ["AMZN"] and run["params"]["labels.horizon"] == 5
    assert run["code_version"] == "0.1.0 abc" and run["data_kind"] == "lobster"
    status, metrics = client.json("GET", f"/api/v1/runs/{R1}/metrics")
    assert metrics["columns"]["lstm:threshold"]["sharpe"] == 2.5 and metrics["columns"]["oracle"]["sharpe"] == 99.0
    history = runs_dir / R1 / "history"
    history.mkdir()
    (history / "lstm.json").write_text(
        '[{"epoch": 1, "val_loss": 0.9}, {"epoch": 2, "val_loss": 0.7}, {"epoch": 3, "val_loss": 0.8}]'
    )
    status, metrics = client.json("GET", f"/api/v1/runs/{R1}/metrics")
    assert metrics["history"]["lstm"]["val_loss"] == {"min": 0.7, "max": 0.9, "last": 0.8, "steps": 3}
    status, headers, body = client.call("GET", f"/api/v1/runs/{R1}/report")
    assert status == 200 and headers["content-type"].startswith("text/html") and R1.encode() in body
    status, _, body = client.call("GET", f"/api/v1/runs/{R1}/artifacts/config.json")
    assert status == 200 and b'"horizon": 1' in body
    assert client.call("GET", "/api/v1/runs/nope-1/report")[0] == 404
    assert client.call("GET", f"/api/v1/runs/{R1}/artifacts/missing.txt")[0] == 404


def test_compare_aligns_columns_and_keeps_the_params_that_differ(client):
    status, out = client.json("POST", "/api/v1/compare", {"runs": [R1, R3], "metrics": ["sharpe"]})
    assert status == 200
    assert [{k: v for k, v in row.items() if k != "deflated_sharpe_stated"} for row in out["table"]] == [
        {"run": R1, "column": "lstm:sign", "benchmark": False, "sharpe": 1.0},
        {"run": R1, "column": "lstm:threshold", "benchmark": False, "sharpe": 2.5},
        {"run": R1, "column": "oracle", "benchmark": True, "sharpe": 99.0},
        {"run": R3, "column": "lstm:sign", "benchmark": False, "sharpe": -1.0},
        {"run": R3, "column": "oracle", "benchmark": True, "sharpe": 99.0},
    ]
    assert out["n_trials"] == 3  # the model columns compared
    assert out["params"]["labels.horizon"] == {R1: 1, R3: 5}
    assert "seed" not in out["params"] and "labels.kind" not in out["params"]


def test_compare_deflates_each_model_column_over_the_stated_trials(client, runs_dir):
    import numpy as np
    import pandas as pd

    import signalbench as sb

    rng = np.random.default_rng(5)
    returns = pd.DataFrame(
        {
            "lstm:sign": rng.normal(2e-4, 1e-3, 400),
            "lstm:threshold": rng.normal(5e-4, 1e-3, 400),
            "oracle": np.abs(rng.normal(0, 1e-3, 400)),
        }
    )
    returns.to_parquet(runs_dir / R1 / "returns.parquet")
    status, out = client.json("POST", "/api/v1/compare", {"runs": [R1, R3], "metrics": ["sharpe"], "n_trials": 20})
    assert status == 200 and out["n_trials"] == 20
    dsr = {(r["run"], r["column"]): r["deflated_sharpe_stated"] for r in out["table"]}
    best = sb.deflated_sharpe(returns[["lstm:sign", "lstm:threshold"]], n_trials=20)  # the oracle is not a trial
    assert dsr[(R1, "lstm:threshold")] == pytest.approx(best.dsr, rel=1e-12)
    assert dsr[(R1, "oracle")] is None and dsr[(R3, "lstm:sign")] is None  # a benchmark; a run without returns
    status, fewer = client.json("POST", "/api/v1/compare", {"runs": [R1], "n_trials": 2})
    assert [r["deflated_sharpe_stated"] for r in fewer["table"] if r["column"] == "lstm:threshold"][0] > best.dsr
