"""WS /api/v1/ws/predictions relays the entries a streaming consumer writes to its output stream (a real
redis-server and the real server), and refuses a socket without a key or without a stream to relay."""

from __future__ import annotations

import json

import pytest

from signalbench.service import keys
from tests.conftest import require_executable, require_module
from tests.service.conftest import Server
from tests.streaming.conftest import RedisServer

require_module("redis", extra="streaming")
ws_client = require_module("websockets.sync.client")


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.sqlite'}"


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(require_executable("redis-server"), tmp_path)
    server.start()
    yield server.url
    server.stop()


def _server(engine, runs_dir, **extras):
    from signalbench.service.state import Service

    return Server(Service(engine=engine, url=str(engine.url), runs_dir=runs_dir, extras=extras))


def test_new_predictions_are_relayed_in_order(engine, runs_dir, redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.xadd("lob:predictions", {"p_up": "0.9"}, id="1-1")  # before the socket: not relayed
    key = keys.create_key(engine, "ws", ["read"])
    with _server(engine, runs_dir, redis=redis_url) as base:
        url = base.replace("http", "ws") + f"/api/v1/ws/predictions?key={key}"
        with ws_client.connect(url, open_timeout=30) as ws:
            import time

            time.sleep(0.7)  # the relay is reading from the newest entry on
            client.xadd("lob:predictions", {"model": "lstm", "p_up": "0.25"}, id="1700000000000-1")
            client.xadd("lob:predictions", {"model": "lstm", "p_up": "0.75"}, id="1700000000000-2")
            got = [json.loads(ws.recv(timeout=30)) for _ in range(2)]
    assert got == [
        {"id": "1700000000000-1", "model": "lstm", "p_up": "0.25"},
        {"id": "1700000000000-2", "model": "lstm", "p_up": "0.75"},
    ]


def test_a_socket_without_a_key_or_without_redis_is_closed_with_the_reason(engine, runs_dir):
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    key = keys.create_key(engine, "ws", ["read"])
    with _server(engine, runs_dir) as base:
        url = base.replace("http", "ws") + "/api/v1/ws/predictions"
        with pytest.raises(InvalidStatus):  # refused before the handshake completes
            with ws_client.connect(url, open_timeout=30) as ws:
                ws.recv(timeout=30)
        with ws_client.connect(f"{url}?key={key}", open_timeout=30) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
    assert closed.value.rcvd.code == 1011 and "--redis URL" in closed.value.rcvd.reason
