"""Keys, scopes, path traversal, the body limit, closed CORS and the loopback default, on the real server."""

from __future__ import annotations

import hashlib
import http.client
import os

import pytest
from sqlalchemy import select

from signalbench.cli import _parser
from signalbench.service import db, keys
from signalbench.service.importer import import_runs
from tests.service.conftest import Client, write_run

RUN = "alpha-20260101T000000Z"
SECRET = "TOPSECRET-do-not-serve"


@pytest.fixture
def db_url(tmp_path):
    """SQLite only: nothing here depends on the backend (the API tests run on both)."""
    return f"sqlite:///{tmp_path / 'service.sqlite'}"


@pytest.fixture
def base(engine, runs_dir, serve):
    write_run(runs_dir, RUN, sharpe={"lstm:sign": 1.0})
    import_runs(engine, runs_dir)
    (runs_dir.parent / "secret.txt").write_text(SECRET)
    return serve(max_body=2000)


def test_keys_are_required_scoped_and_stored_hashed(engine, base):
    anonymous = Client(base)
    status, headers, raw = anonymous.call("GET", "/api/v1/runs")
    assert status == 401 and headers["www-authenticate"] == "Bearer" and b"expected an API key" in raw
    assert Client(base, "sbk_0000_nothing").call("GET", "/api/v1/runs")[0] == 401
    read = keys.create_key(engine, "reader", ["read"])
    assert Client(base, read).call("GET", "/api/v1/runs")[0] == 200
    status, _, raw = Client(base, read).call("DELETE", "/api/v1/jobs/abc")
    assert status == 403 and b"scope 'write'" in raw
    admin = keys.create_key(engine, "boss", ["admin"])
    assert Client(base, admin).call("DELETE", "/api/v1/jobs/abc")[0] == 404  # admin implies write: past the check
    _, key_id, secret = read.split("_", 2)
    with engine.connect() as conn:
        row = conn.execute(select(db.api_keys).where(db.api_keys.c.id == key_id)).one()
    assert row.hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(v) for v in row)


def test_reads_can_be_opened_explicitly_writes_never(engine, runs_dir, serve):
    base = serve(open_reads=True)
    assert Client(base).call("GET", "/api/v1/runs")[0] == 200
    assert Client(base).call("DELETE", "/api/v1/jobs/abc")[0] == 401


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/runs/{RUN}/artifacts/../../secret.txt",
        f"/api/v1/runs/{RUN}/artifacts/..%2F..%2Fsecret.txt",
        f"/api/v1/runs/{RUN}/artifacts/%2E%2E/%2E%2E/secret.txt",
        f"/api/v1/runs/{RUN}/artifacts/%2Fetc%2Fpasswd",
        f"/api/v1/runs/{RUN}/artifacts//etc/passwd",
        f"/api/v1/runs/{RUN}/artifacts/..\\..\\secret.txt",
        "/api/v1/runs/..%2F..%2Fsecret.txt/report",
        "/api/v1/runs/../artifacts/secret.txt",
        f"/api/v1/runs/{RUN}/artifacts/out/secret.txt",
        f"/api/v1/runs/{RUN}/artifacts/link.txt",
    ],
)
def test_no_request_reads_outside_the_runs_folder(engine, base, runs_dir, path):
    os.symlink(runs_dir.parent, runs_dir / RUN / "out")  # a folder link out of the run folder
    os.symlink(runs_dir.parent / "secret.txt", runs_dir / RUN / "link.txt")  # a file link out
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)  # the path sent as written
    conn.request("GET", path, headers={"Authorization": f"Bearer {keys.create_key(engine, 'r', ['read'])}"})
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status in (404, 422), (resp.status, body)
    assert SECRET.encode() not in body and b"root:" not in body


def test_body_limit_by_length_and_by_stream(engine, base):
    key = keys.create_key(engine, "r", ["read"])
    status, headers, raw = Client(base, key).call(
        "POST", "/api/v1/compare", b"x" * 5000, headers={"Content-Type": "application/json"}
    )
    assert status == 413 and headers["content-type"] == "application/problem+json" and b"at most 2000 bytes" in raw
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
    chunks = iter([b"[" + b" " * 1500, b" " * 1500 + b"]"])  # chunked: no Content-Length to judge by
    conn.request(
        "POST",
        "/api/v1/compare",
        body=chunks,
        encode_chunked=True,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    assert resp.status == 413 and b"at most 2000 bytes" in resp.read()


def test_cors_is_closed(engine, base):
    key = keys.create_key(engine, "r", ["read"])
    origin = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    for method in ("OPTIONS", "GET"):
        _, headers, _ = Client(base, key).call(method, "/api/v1/runs", headers=origin)
        assert not any(h.lower().startswith("access-control-") for h in headers)


def test_binds_to_loopback_by_default():
    assert _parser().parse_args(["serve"]).host == "127.0.0.1"


def test_health_ready_and_request_metrics(engine, base):
    key = keys.create_key(engine, "r", ["read"])
    client = Client(base, key)
    assert client.json("GET", "/api/v1/health", key=None) == (200, {"status": "ok"})
    assert client.json("GET", "/api/v1/ready", key=None)[1]["status"] == "ready"
    for _ in range(3):
        client.call("GET", "/api/v1/runs")
    status, _, raw = client.call("GET", "/api/v1/metrics")
    text = raw.decode()
    assert 'signalbench_requests_total{method="GET",route="/api/v1/runs",status="200"} 3' in text
    assert 'signalbench_request_seconds{route="/api/v1/runs",quantile="0.99"}' in text
