"""Two ASGI middlewares: the request body limit (413 before the route reads it) and the request metrics."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict

import numpy as np


def _send_problem(status: int, detail: str):
    body = json.dumps({"type": "about:blank", "title": "Content Too Large", "status": status, "detail": detail})

    async def respond(send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/problem+json")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})

    return respond


class BodyLimit:
    """Refuse a request body over ``limit`` bytes: at once by its Content-Length, else when the stream passes it."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on with its body counted."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        detail = f"body: expected at most {self.limit} bytes, got more; send smaller batches"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _send_problem(413, detail)(send)
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        chunks, seen = [], 0
        while True:  # read the whole body first (at most the limit): a stream over it is refused unread
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await _send_problem(413, detail)(send)
            if not message.get("more_body", False):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed():
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)


class RequestMetrics:
    """Request counts by route and status, and latencies (the last 10,000 per route) for p50/p99."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latencies: dict[str, list[float]] = defaultdict(list)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        with self.lock:
            self.counts[(method, route, status)] += 1
            lat = self.latencies[route]
            lat.append(seconds)
            if len(lat) > 10_000:
                del lat[:5_000]

    def text(self, jobs_by_state: dict[str, int]) -> str:
        """The Prometheus text exposition of the counts, latency quantiles and jobs by state."""
        lines = ["# TYPE signalbench_requests_total counter"]
        with self.lock:
            for (method, route, status), n in sorted(self.counts.items()):
                lines.append(f'signalbench_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            lines.append("# TYPE signalbench_request_seconds summary")
            for route, lat in sorted(self.latencies.items()):
                p50, p99 = np.quantile(lat, [0.5, 0.99])
                lines.append(f'signalbench_request_seconds{{route="{route}",quantile="0.5"}} {p50:.6f}')
                lines.append(f'signalbench_request_seconds{{route="{route}",quantile="0.99"}} {p99:.6f}')
        lines.append("# TYPE signalbench_jobs gauge")
        lines += [f'signalbench_jobs{{state="{s}"}} {n}' for s, n in sorted(jobs_by_state.items())]
        return "\n".join(lines) + "\n"

    class Middleware:
        """Times every HTTP request and records it under its route template (not its raw path)."""

        def __init__(self, app, metrics: RequestMetrics) -> None:
            self.app, self.metrics = app, metrics

        async def __call__(self, scope, receive, send) -> None:
            """Pass the request on, timed."""
            if scope["type"] != "http":
                return await self.app(scope, receive, send)
            start, status = time.perf_counter(), [500]

            async def sending(message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, sending)
            finally:
                route = scope.get("route")
                name = getattr(route, "path", None)
                if name is None:
                    name = "unmatched"
                elif scope["path"].startswith("/api/v1/") and not name.startswith("/api/v1"):
                    name = "/api/v1" + name  # the route as declared in its router, under the API's prefix
                self.metrics.record(scope["method"], name, status[0], time.perf_counter() - start)
