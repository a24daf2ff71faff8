"""The Redis connection of the streaming commands: the ``streaming`` extra, a clear message, capped back-off.

Every Redis call of the producer and the consumer goes through :meth:`RedisLink.call`. When the server cannot be
reached (at start or mid-run) it logs one warning naming the URL (password hidden) and the error, then retries with
exponential back-off (``first_delay`` doubling up to ``max_delay``), forever or for ``retry_for`` seconds, after
which a :class:`RedisUnavailable` names the URL. The calls retried must be idempotent: the streaming protocol makes
them so (``docs/architecture.md``, "Streaming"). ``outages`` counts the outages seen: a caller that must react to one
(the consumer re-reads its pending entries after an outage) compares it before and after a call.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from signalbench._validation import number

__all__ = ["RedisLink", "RedisUnavailable", "check_url", "redact", "require_redis"]

T = TypeVar("T")
log = logging.getLogger("signalbench.streaming")

#: The default server of every ``signalbench stream`` command.
DEFAULT_URL = "redis://127.0.0.1:6379/0"


class RedisUnavailable(ConnectionError):
    """The Redis server could not be reached within the retry budget (the message names the URL)."""


def require_redis():
    """The ``redis`` client module, or an ImportError naming the ``streaming`` extra.

    Returns
    -------
    module
        ``redis`` (redis-py).
    """
    try:
        import redis
    except ImportError as exc:
        raise ImportError(
            "signalbench.streaming needs the Redis client: pip install 'signalbench[streaming]' (the redis package)"
        ) from exc
    return redis


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def check_url(url: str) -> str:
    """``url`` when it names a Redis server and an integer database; ValueError naming ``--redis`` otherwise.

    redis-py reads a database path that is not a number (``redis://host:6379/one``) as database 0 without a word.
    """
    what = "a URL redis://HOST:PORT/DB (rediss:// for TLS, unix:///PATH?db=DB) with DB an integer >= 0"
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"--redis: expected {what}, got {redact(url) if isinstance(url, str) else url!r}")
    dbs = parse_qs(parts.query).get("db", [])
    if parts.scheme != "unix" and parts.path.strip("/"):
        dbs.append(parts.path.strip("/"))
    bad = next((db for db in dbs if not (db.isascii() and db.isdigit())), None)
    if bad is not None:
        raise ValueError(f"--redis: expected {what}, got database {bad!r} in {redact(url)}")
    return url


class RedisLink:
    """One Redis client plus the retry policy (see the module docstring).

    Parameters
    ----------
    url : str
        ``redis://host:port/db`` (``rediss://`` for TLS, ``unix://`` for a socket).
    retry_for : float, optional
        Give up after this many seconds without an answer (None: retry until interrupted).
    first_delay, max_delay : float
        The back-off: the first wait, doubled after each failed attempt up to ``max_delay`` seconds.
    """

    def __init__(
        self, url: str = DEFAULT_URL, *, retry_for: float | None = None, first_delay: float = 0.05,
        max_delay: float = 2.0,
    ) -> None:  # fmt: skip
        redis = require_redis()
        self.url = check_url(url)
        self.retry_for = None if retry_for is None else number(retry_for, "--retry-for", low=0.0)
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.outages = 0
        try:
            self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=30, socket_connect_timeout=5)
        except ValueError as exc:
            raise ValueError(f"--redis: expected a redis:// URL, got {url!r} ({exc})") from None
        self._errors = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError)

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, retried with back-off while Redis is unreachable; ``what`` names it in logs."""
        start = None
        delay = self.first_delay
        while True:
            try:
                result = fn(*args, **kwargs)
            except self._errors as exc:
                now = time.monotonic()
                if start is None:
                    start = now
                    self.outages += 1
                    log.warning(
                        "Redis at %s is unavailable (%s: %s) during %s; retrying with back-off up to %.1fs%s",
                        redact(self.url), type(exc).__name__, exc, what, self.max_delay,
                        "" if self.retry_for is None else f" for {self.retry_for:g}s",
                    )  # fmt: skip
                if self.retry_for is not None and now - start >= self.retry_for:
                    raise RedisUnavailable(
                        f"--redis: expected a reachable Redis server, got no answer from {redact(self.url)} for "
                        f"{now - start:.1f}s ({type(exc).__name__}: {exc}); start redis-server, pass --redis URL, or "
                        "--retry-for SECONDS to wait longer"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, self.max_delay)
                continue
            if start is not None:
                log.warning("Redis at %s is back after %.1fs", redact(self.url), time.monotonic() - start)
            return result

    def ping(self) -> None:
        """Wait until the server answers (back-off as in :meth:`call`)."""
        self.call("connect", self.client.ping)
