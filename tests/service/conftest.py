"""Fixtures of the service tests: run folders written by hand (tiny), a database per backend (SQLite, and a real
PostgreSQL server started in a temporary folder on loopback, stopped afterwards), and the real server (uvicorn) on a
free loopback port."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import _missing, require_module

require_module("fastapi", extra="service")
require_module("sqlalchemy", extra="service")
require_module("alembic", extra="service")
uvicorn = require_module("uvicorn", extra="service")

from signalbench.service import db, migrate  # noqa: E402
from signalbench.service.app import create_app  # noqa: E402
from signalbench.service.state import Service  # noqa: E402

FEATURES = ["f_a", "f_b", "f_c"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------------- run folders


def write_run(
    runs: Path,
    run_id: str,
    *,
    sharpe: dict[str, float | None],
    horizon: int = 1,
    model: str = "lstm",
    data: dict | None = None,
    status_columns: dict | None = None,
) -> Path:
    """A run folder with the files the service reads: metrics.json (one column per ``sharpe`` entry, plus the
    ``oracle`` benchmark with a Sharpe of 99), config.json, environment.json, report.html."""
    folder = runs / run_id
    folder.mkdir(parents=True)
    columns = {
        name: {
            "benchmark": False,
            "tuned": False,
            "model": model,
            "strategy": "sign",
            "params": {},
            "sharpe": value,
            "total_return_additive": 0.01,
        }
        for name, value in sharpe.items()
    }
    columns["oracle"] = {"benchmark": True, "sharpe": 99.0, "total_return_additive": 0.5}
    metrics = {
        "experiment": run_id,
        "data": "synthetic ticks",
        "columns": columns,
        "benchmarks": ["oracle"],
        "models": {},
        "notes": [],
    }
    config = {
        "name": run_id.rsplit("-", 1)[0],
        "seed": 1,
        "device": "cpu",
        "data": data or {"kind": "synthetic", "n": 1000},
        "labels": {"kind": "direction", "horizon": horizon},
        "models": [{"name": model, "seq_len": 4}],
        "strategies": [{"rule": "sign"}],
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "environment.json").write_text(json.dumps({"git_commit": "abc", "packages": {"signalbench": "0.1.0"}}))
    (folder / "report.html").write_text(f"<html><body>report of {run_id}</body></html>")
    return folder


def fitted_logistic(runs: Path, run_id: str):
    """A logistic model fitted on tiny random rows with named features, saved into the run folder's models/."""
    import pandas as pd

    from signalbench.signals.registry import create

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=FEATURES)
    y = (X["f_a"] + 0.3 * rng.normal(size=300) > 0).astype(int).to_numpy() * 2  # down (0) or up (2)
    model = create("logistic").fit(X, y)
    model.save(runs / run_id / "models" / "logistic")
    return model, X


# ------------------------------------------------------------------------------------------------------ databases


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server in a temporary folder on a free loopback port (run as the postgres user when the
    tests run as root, since initdb refuses root), stopped afterwards."""
    bindir = _postgres_bin()
    if bindir is None:
        _missing("PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb)", "apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="signalbench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = root / "data"
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def _reset(engine) -> None:
    """An empty database (PostgreSQL is shared by the session's tests)."""
    from sqlalchemy import text

    with engine.begin() as conn:
        for table in [*reversed(db.metadata.sorted_tables)]:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        for table in (migrate.VERSION_TABLE, "alembic_version"):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database of each backend (no schema yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    engine = db.make_engine(url)
    _reset(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url):
    """An engine on a database at the newest schema."""
    eng = db.make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


# --------------------------------------------------------------------------------------------------------- server


class Client:
    """A tiny HTTP client over urllib (the real server, through the loopback)."""

    def __init__(self, base: str, key: str | None = None) -> None:
        self.base, self.key = base, key

    def call(self, method: str, path: str, body=None, *, headers: dict | None = None, key: str | None = "default"):
        """(status, headers, body bytes); a dict body is sent as JSON."""
        data = json.dumps(body).encode() if isinstance(body, dict | list) else body
        hdrs = {"Content-Type": "application/json"} if isinstance(body, dict | list) else {}
        hdrs.update(headers or {})
        token = self.key if key == "default" else key
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def json(self, method: str, path: str, body=None, **kw):
        """(status, parsed JSON body)."""
        status, _, raw = self.call(method, path, body, **kw)
        return status, json.loads(raw) if raw else None


class Server:
    """The real server (uvicorn) in a thread of this process, on a free loopback port."""

    def __init__(self, svc: Service) -> None:
        self.port = free_port()
        config = uvicorn.Config(create_app(svc), host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    path = tmp_path / "runs"
    path.mkdir()
    return path


@pytest.fixture
def serve(engine, runs_dir):
    """Start the server on ``engine`` and ``runs_dir``: ``serve(**Service options) -> base URL`` (stopped after)."""
    stack = []

    def start(**options) -> str:
        server = Server(Service(engine=engine, url=str(engine.url), runs_dir=runs_dir, **options))
        stack.append(server)
        return server.__enter__()

    yield start
    for server in stack:
        server.__exit__()
