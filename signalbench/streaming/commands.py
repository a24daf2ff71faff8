"""``signalbench stream replay | infer | evaluate``: the sub-commands and their handlers (``docs/architecture.md``)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from signalbench.streaming._redis import DEFAULT_URL

__all__ = ["REPLAY_RETRY_FOR", "add_stream_commands", "run_stream_command"]

#: Seconds ``stream replay`` waits for an unreachable Redis before it fails naming the URL (``--retry-for``).
REPLAY_RETRY_FOR = 30.0


def add_stream_commands(sub) -> argparse.ArgumentParser:
    """Add ``stream`` (sub-commands ``replay``, ``infer``, ``evaluate``) to the CLI's sub-parsers; return its parser."""
    stream = sub.add_parser("stream", help="serve a model on a Redis Stream: replay events, infer, evaluate")
    cmds = stream.add_subparsers(dest="stream_command", required=True, metavar="STREAM_COMMAND")
    rp = cmds.add_parser("replay", help="put a LOBSTER day's events into a Redis Stream, in order")
    rp.add_argument("source", type=Path, metavar="LOBSTER_PATH", help="a LOBSTER zip, folder or file pair")
    rp.add_argument("--stream", default="lob:events", help="the stream key (default lob:events)")
    rp.add_argument("--speed", default="max", help="1x = recorded pace, 10x = ten times faster, max (default)")
    rp.add_argument("--levels", type=int, help="book levels to keep (default: all in the file)")
    rp.add_argument("--day", help="only this trading day, YYYY-MM-DD (default: every day, in order)")
    rp.add_argument("--limit", type=int, help="only the first N events of each day")
    rp.add_argument("--batch", type=int, default=500, help="entries per pipelined XADD batch (default 500)")
    rp.add_argument("--max-len", type=int, help="backpressure: wait while the slowest group has N unacked entries")
    inf = cmds.add_parser("infer", help="consume events, predict, publish, write the Parquet sink")
    inf.add_argument("--model", type=Path, required=True, help="a saved model: RUN_DIR/models/NAME")
    inf.add_argument("--in", dest="stream", default="lob:events", help="the events stream (default lob:events)")
    inf.add_argument("--out", default="lob:predictions", help="the predictions stream (default lob:predictions)")
    inf.add_argument("--sink", type=Path, required=True, help="the Parquet sink folder")
    inf.add_argument("--mode", choices=("window", "stateful"), default="window")
    inf.add_argument("--backend", choices=("torch", "onnxruntime"), default="torch")
    inf.add_argument("--features", nargs="+", help="feature sets (default: the run folder's config.json)")
    inf.add_argument("--group", default="signalbench", help="consumer group (default signalbench)")
    inf.add_argument("--consumer", default="consumer-1", help="consumer name (default consumer-1)")
    inf.add_argument("--batch-size", type=int, default=1000, help="rows per Parquet batch (default 1000)")
    inf.add_argument("--flush-interval", type=float, default=1.0, help="seconds before a partial batch is flushed")
    inf.add_argument("--max-deliveries", type=int, default=5, help="dead-letter an entry delivered more times")
    inf.add_argument("--claim-idle", type=float, default=0.0, help="claim other consumers' entries idle this long")
    inf.add_argument("--exit-at-end", action="store_true", help="stop when the replay is done and all is consumed")
    inf.add_argument("--idle-exit", type=float, help="stop after this many seconds without a new event")
    inf.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: one event at a time is fastest on one thread)",
    )
    inf.add_argument("--metrics-interval", type=float, default=5.0, help="seconds between metrics log lines")
    for p, retry, when in ((rp, REPLAY_RETRY_FOR, f"{REPLAY_RETRY_FOR:g}"), (inf, None, "never: a consumer waits")):
        p.add_argument("--redis", default=DEFAULT_URL, help=f"Redis URL (default {DEFAULT_URL})")
        p.add_argument("--retry-for", type=float, default=retry, metavar="SECONDS",
                       help=f"give up after this many seconds without Redis (default {when})")  # fmt: skip
    _add_evaluate(cmds)
    return stream


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is at each record (not the one at set-up time)."""

    @property
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _logging():
    """Log ``signalbench.streaming`` at INFO to stderr, through rich on a terminal; return that rich console.

    The live status line (:class:`~signalbench.streaming.metrics.Metrics`) shares the console, so log lines print
    above it instead of through it. Not a terminal (or handlers already set): plain lines, None.
    """
    root = logging.getLogger("signalbench.streaming")
    console = None
    if not root.handlers:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.logging import RichHandler

            console = Console(stderr=True)
            handler = RichHandler(console=console, show_path=False, log_time_format="%H:%M:%S")
        else:
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
    return console


def _add_evaluate(cmds) -> None:
    ev = cmds.add_parser("evaluate", help="score a prediction sink against the realised labels (writes evaluation.*)")
    ev.add_argument("sink_dir", type=Path, metavar="SINK_DIR", help="the Parquet sink folder of `stream infer`")
    ev.add_argument("--data", type=Path, help="the replayed LOBSTER data (default: the source the manifest records)")
    ev.add_argument("--json", action="store_true", help="print evaluation.json instead of the tables")
    ev.add_argument("--label-kind", choices=("direction", "smoothed_direction"), help="labels, when not from a run")
    ev.add_argument("--horizon", type=int, help="label horizon in events (with --label-kind)")
    ev.add_argument("--threshold", type=float, help="stationary threshold (with --label-kind)")


def _evaluate(args) -> int:
    import json

    from rich.console import Console

    from signalbench._validation import integer
    from signalbench.streaming.analytics import evaluate
    from signalbench.streaming.evaluation_console import evaluation_view

    horizon = None if args.horizon is None else integer(args.horizon, "--horizon", minimum=1)
    labels = None
    if args.label_kind is not None:
        labels = {"kind": args.label_kind, "horizon": 1 if horizon is None else horizon, "threshold": args.threshold}
    elif horizon is not None or args.threshold is not None:
        raise ValueError(
            "--horizon, --threshold: expected them with --label-kind (a model outside a run folder), got "
            "them without it; the run folder's labels are used otherwise"
        )
    res = evaluate(args.sink_dir, data=args.data, labels=labels)
    if args.json:
        print(json.dumps(res.to_dict(), indent=1, sort_keys=True))
        return 0
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(evaluation_view(res))
    console.print(f"written: {args.sink_dir / 'evaluation.json'}, {args.sink_dir / 'evaluation.html'}")
    return 0


def _replay(args) -> int:
    from signalbench.streaming._redis import RedisLink
    from signalbench.streaming.replay import parse_speed, replay

    link = RedisLink(args.redis, retry_for=args.retry_for)
    s = replay(args.source, args.stream, link=link, speed=parse_speed(args.speed), levels=args.levels, day=args.day,
               limit=args.limit, batch=args.batch, max_len=args.max_len)  # fmt: skip
    print(f"{s.stream}: {s.sent} events sent ({s.skipped} already there) from {', '.join(s.days)}, ids "
          f"{s.first_id} .. {s.last_id}, {s.seconds:.2f}s ({s.events_per_second:.0f} events/s)")  # fmt: skip
    return 0


def _infer(args) -> int:
    from signalbench.streaming.serve import build_consumer

    consumer = build_consumer(args)

    def stop(signum, frame):
        if consumer.stopping:  # a second Ctrl-C: stop now (the next start resumes from the last checkpoint)
            raise KeyboardInterrupt
        consumer.stopping = True
        logging.getLogger("signalbench.streaming").warning("stopping after this batch (Ctrl-C again to stop now)")

    handlers = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        summary = consumer.run()
    except KeyboardInterrupt:
        print("interrupted: the sink holds every flushed batch; restart to resume", file=sys.stderr)
        return 130
    finally:
        consumer.metrics.close()
        for s, handler in handlers.items():
            signal.signal(s, handler)
    print(f"{summary['events']} events, {summary['batches']} batches, {summary['dead_letters']} dead letters; "
          f"sink {args.sink}")  # fmt: skip
    return 0


def run_stream_command(args) -> int:
    """Run ``signalbench stream <command>`` from parsed arguments; the exit status."""
    args.console = _logging()
    if args.stream_command == "replay":
        return _replay(args)
    if args.stream_command == "infer":
        return _infer(args)
    if args.stream_command == "evaluate":
        return _evaluate(args)
    raise SystemExit(f"stream: unknown command {args.stream_command!r}")
