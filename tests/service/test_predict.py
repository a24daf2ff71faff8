"""POST /models/{name}/predict on the real server: probabilities equal to the saved model's predict_proba, JSON or
Arrow IPC, the feature schema checked (a 422 naming the columns)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from signalbench.service import keys
from signalbench.service.importer import import_runs
from tests.service.conftest import Client, fitted_logistic, write_run

RUN = "fit-20260101T000000Z"
NAME = f"logistic@{RUN}"


@pytest.fixture
def setup(engine, runs_dir, serve):
    write_run(runs_dir, RUN, sharpe={"logistic:sign": 0.1})
    model, X = fitted_logistic(runs_dir, RUN)
    import_runs(engine, runs_dir)
    client = Client(serve(), keys.create_key(engine, "p", ["read"]))
    return client, model, X


def test_json_rows_in_any_column_order_give_predict_proba(setup, engine):
    client, model, X = setup
    rows = X.iloc[:50]
    order = ["f_c", "f_a", "f_b"]
    body = {"columns": order, "rows": rows[order].to_numpy().tolist(), "event_ids": [f"e{i}" for i in range(50)]}
    status, out = client.json("POST", f"/api/v1/models/{NAME}/predict", body)
    assert status == 200, out
    expected = model.predict_proba(rows)
    np.testing.assert_array_equal(np.array(out["probabilities"], dtype=float), expected)
    from sqlalchemy import func, select

    from signalbench.service import db

    with engine.connect() as conn:  # the named events are recorded
        assert conn.execute(select(func.count()).select_from(db.predictions)).scalar() == 50


def test_arrow_ipc_batch_gives_predict_proba(setup):
    client, model, X = setup
    table = pa.Table.from_pandas(X, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    status, _, raw = client.call(
        "POST",
        f"/api/v1/models/{NAME}/predict",
        sink.getvalue().to_pybytes(),
        headers={"Content-Type": "application/vnd.apache.arrow.stream"},
    )
    assert status == 200, raw
    np.testing.assert_array_equal(np.array(json.loads(raw)["probabilities"], dtype=float), model.predict_proba(X))


def test_a_schema_mismatch_is_a_422_naming_the_columns(setup):
    client, _, X = setup
    body = {"columns": ["f_a", "f_b", "f_z"], "rows": X.iloc[:3].to_numpy().tolist()}
    status, headers, raw = client.call("POST", f"/api/v1/models/{NAME}/predict", body)
    problem = json.loads(raw)
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert {e["location"]: e["message"] for e in problem["errors"]} == {
        "body.columns.f_c": "missing",
        "body.columns.f_z": "unexpected",
    }
    assert "['f_a', 'f_b', 'f_c']" in problem["detail"]
    status, out = client.json("POST", f"/api/v1/models/{NAME}/predict", {"columns": ["f_a"], "rows": [[1, 2]]})
    assert status == 422 and "rows[0]" in out["detail"]
    assert client.call("POST", "/api/v1/models/nope@x/predict", body)[0] == 404
