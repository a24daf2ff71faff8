"""Live metrics: rolling percentiles against numpy, the rate over the interval, the logged status line."""

from __future__ import annotations

import logging

import numpy as np

from signalbench.streaming import Metrics
from signalbench.streaming.metrics import format_status


def test_rolling_percentiles_and_counters():
    rng = np.random.default_rng(0)
    m = Metrics(window=500, interval=None, live=False)
    e2e, model, feat = rng.exponential(300, 800), rng.exponential(30, 800), rng.exponential(3, 800)
    for a, b, c in zip(feat, model, e2e):
        m.record(a, b, c)
    s = m.snapshot()
    assert s["events"] == 800
    for name, values in (("e2e", e2e), ("model", model), ("feature", feat)):
        for q in (50, 90, 99):
            assert s[f"{name}_p{q}_us"] == np.percentile(values[-500:], q)  # the last `window` events only
    assert np.isnan(Metrics(interval=None, live=False).snapshot()["e2e_p50_us"])


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_tick_logs_rate_and_status(caplog):
    clock = FakeClock()
    m = Metrics(interval=5.0, live=False, clock=clock)
    m.batches, m.dead_letters, m.lag, m.pending = 3, 1, 7, 9
    for _ in range(40):
        m.record(1.0, 20.0, 100.0)
    clock.now += 4.999
    assert not m.due() and m.tick() is None  # not due before the interval
    clock.now += 0.001
    assert m.due()
    with caplog.at_level(logging.INFO, logger="signalbench.streaming"):
        snap = m.tick()
    assert snap is not None and snap["events_per_s"] == 40 / 5.0
    line = caplog.records[-1].getMessage()
    assert line == "stream: " + format_status(snap)
    assert "events 40 (8/s)" in line and "batches 3 | lag 7 | pending 9 | dead letters 1" in line
    assert m.tick() is None  # not due again yet
    for _ in range(10):
        m.record(1.0, 20.0, 100.0)
    clock.now += 2.5
    forced = m.tick(force=True)
    assert forced is not None and forced["events_per_s"] == 10 / 2.5  # the rate over the last report's interval


def test_live_status_line_renders():
    import io

    from rich.console import Console

    out = io.StringIO()
    m = Metrics(interval=None, live=True, console=Console(file=out, force_terminal=True, width=300))
    m.record(1.0, 2.0, 3.0)
    m.tick(force=True)
    m.close()
    assert "events 1 " in out.getvalue() and "dead letters 0" in out.getvalue()


def test_missing_redis_client_names_the_extra(monkeypatch):
    import sys

    import pytest

    from signalbench.streaming import RedisLink

    monkeypatch.setitem(sys.modules, "redis", None)  # as if the package were not installed
    with pytest.raises(ImportError, match=r"pip install 'signalbench\[streaming\]'"):
        RedisLink("redis://127.0.0.1:1/0")


def test_latencies_read_in_their_unit():
    from signalbench.streaming.metrics import duration

    assert [duration(x) for x in (1.26, 57.4, 12_400.0, 9_318_482.0)] == ["1.3us", "57us", "12.4ms", "9.32s"]
    assert duration(float("nan")) == "-"
    m = Metrics(interval=None, live=False)
    m.record(1.0, 20.0, 2_500_000.0)
    assert "e2e p50/p90/p99 2.50s/2.50s/2.50s | model p50/p99 20us/20us | features p50 1.0us" in format_status(
        m.snapshot()
    )


def test_live_line_is_never_wrapped_on_a_narrow_terminal(monkeypatch):
    """A wrapped live line cannot be redrawn in place (it scrolls the terminal): it is cut with an ellipsis."""
    import io

    from rich.console import Console

    monkeypatch.setattr(logging.getLogger("signalbench.streaming"), "disabled", True)  # only the live line here

    out = io.StringIO()
    m = Metrics(interval=None, live=True, console=Console(file=out, force_terminal=True, width=60))
    m.record(1.0, 2.0, 3.0)
    m.tick(force=True)
    m.close()
    lines = [ln for ln in out.getvalue().replace("\r", "\n").split("\n") if "events 1 " in ln]
    assert lines and all("…" in ln and "dead letters" not in ln for ln in lines)
