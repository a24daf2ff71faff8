"""Fixtures of the streaming tests: a real redis-server on a free loopback port, synthetic LOBSTER days, a toy model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _root_conftest(config):
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == ROOT / "tests" / "conftest.py":
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server process on 127.0.0.1:port with its data in ``folder``; start/stop/restart on demand."""

    def __init__(self, executable: str, folder: Path, *, aof: bool = False) -> None:
        self.executable, self.folder, self.aof = executable, folder, aof
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", *persistence, "--protected-mode", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(500):
            try:
                client.ping()
                return
            except (redis.ConnectionError, redis.exceptions.BusyLoadingError):
                time.sleep(0.01)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # SIGTERM: redis-server fsyncs the AOF and exits
            self.proc.wait(timeout=30)
            self.proc = None


@pytest.fixture(scope="session")
def redis_executable(request) -> str:
    return _root_conftest(request.config).require_executable("redis-server", package="redis-server")


@pytest.fixture(scope="session")
def redis_server(redis_executable, tmp_path_factory):
    server = RedisServer(redis_executable, tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def link(redis_server):
    """A RedisLink to the session server, emptied first."""
    from signalbench.streaming import RedisLink

    link = RedisLink(redis_server.url, retry_for=30)
    link.client.flushall()
    return link


def _day_rows(rng: np.random.Generator, n: int, levels: int = 1) -> tuple[list[str], list[str]]:
    times = 34_200 + np.cumsum(rng.exponential(0.02, n)) + np.arange(n) * 1e-6
    mid = 2_000_000 + 100 * np.cumsum(rng.integers(-1, 2, n))
    half = 100 * rng.integers(1, 3, n)
    ask, bid = mid + half, mid - half
    types = rng.choice([1, 2, 3, 4], n, p=[0.5, 0.2, 0.2, 0.1])
    direction = rng.choice([-1, 1], n)
    price = np.where(direction > 0, bid, ask)
    msg = [f"{t:.9f},{ty},{1000 + k},{rng.integers(1, 500)},{p},{d}"
           for k, (t, ty, p, d) in enumerate(zip(times, types, price, direction))]  # fmt: skip
    book = [f"{a},{rng.integers(1, 900)},{b},{rng.integers(1, 900)}" for a, b in zip(ask, bid)]
    deep = np.random.default_rng(n).integers(1, 900, size=(n, 2 * levels))  # levels 2.. (a second stream: level 1
    for i in range(2, levels + 1):  # keeps its numbers whatever the depth)
        book = [f"{row},{a + 100 * (i - 1)},{q[2 * i - 2]},{b - 100 * (i - 1)},{q[2 * i - 1]}"
                for row, a, b, q in zip(book, ask, bid, deep)]  # fmt: skip
    return msg, book


def write_lobster(folder: Path, days: dict[str, int], seed: int = 0, *, levels: int = 1, ticker: str = "TOY") -> Path:
    """A folder of synthetic LOBSTER CSV pairs of ``levels`` levels, ``days`` = {date: events}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for date, n in days.items():
        msg, book = _day_rows(rng, n, levels)
        stem = f"{ticker}_{date}_34200000_57600000"
        (folder / f"{stem}_message_{levels}.csv").write_text("\n".join(msg) + "\n")
        (folder / f"{stem}_orderbook_{levels}.csv").write_text("\n".join(book) + "\n")
    return folder


@pytest.fixture(scope="session")
def toy_lobster(tmp_path_factory) -> Path:
    """Two synthetic days: 1200 and 800 events."""
    return write_lobster(tmp_path_factory.mktemp("lobster"), {"2024-03-04": 1200, "2024-03-05": 800})


def consumer_command(url: str, sink: Path, *extra: str) -> list[str]:
    """The toy consumer script (tests/streaming/toy_consumer.py) as a subprocess command."""
    return [sys.executable, str(HERE / "toy_consumer.py"), "--redis", url, "--sink", str(sink), *extra]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def toy_module():
    """tests/streaming/toy_consumer.py as a module (for its ToyProcessor)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("toy_consumer", HERE / "toy_consumer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_toy(url: str, sink: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the toy consumer to the end of the replay."""
    return subprocess.run(consumer_command(url, sink, *extra), env=env(), capture_output=True, text=True,
                          timeout=timeout, check=True)  # fmt: skip


@pytest.fixture
def make_lobster(tmp_path):
    """``make_lobster({date: events}, seed)``: a fresh synthetic LOBSTER folder."""
    counter = iter(range(1000))

    def make(days: dict[str, int], seed: int = 0, **kw) -> Path:
        return write_lobster(tmp_path / f"lobster{next(counter)}", days, seed, **kw)

    return make


@pytest.fixture(scope="session")
def helpers():
    """The helpers of this conftest (test modules cannot import it under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(RedisServer=RedisServer, run_toy=run_toy, consumer_command=consumer_command, env=env,
                                 toy=toy_module(), write_lobster=write_lobster, free_port=free_port)  # fmt: skip


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A run folder with a small LSTM (window 4) fitted on a synthetic 2-level LOBSTER day's lob_basic features.

    Returns ``(run_dir, lobster_folder)``; ``config.json`` records the feature sets and the data's 2 levels.
    """
    import json

    import signalbench.signals as signals
    from signalbench.data import compute_features, load_lobster
    from signalbench.data.labels import direction

    data = write_lobster(tmp_path_factory.mktemp("lobster2"), {"2024-03-04": 700}, seed=5, levels=2)
    df = load_lobster(data)
    X = compute_features(df, "lob_basic")
    mid = ((df["ask_price_1"] + df["bid_price_1"]) / 2).to_numpy()
    y = direction(mid, 5, threshold=1e-5)
    run = tmp_path_factory.mktemp("run")
    (run / "config.json").write_text(
        json.dumps({"features": ["lob_basic"], "data": {"kind": "lobster", "path": str(data), "levels": 2}})
    )
    model = signals.create("lstm", seq_len=4, hidden_size=4, head_size=4, epochs=1, progress=False, device="cpu",
                           seed=0)  # fmt: skip
    model.fit(X.iloc[:500], y[:500]).save(run / "models" / "lstm")
    return run, data
