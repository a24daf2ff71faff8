"""``signalbench serve``, ``signalbench serve keys create`` and ``signalbench db upgrade | import``.

Needs the ``service`` extra (``pip install 'signalbench[service]'``). The database is ``--db URL`` (SQLAlchemy URL:
``postgresql://user@host/db`` for a team) or, by default, a SQLite file beside the runs folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _db_options(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    """``--db`` and ``--runs``; a nested command leaves the values given before it alone (``defaults=False``)."""
    keep = {} if defaults else {"default": argparse.SUPPRESS}
    p.add_argument("--db", help="database URL (default: sqlite file signalbench.sqlite beside the runs folder)", **keep)
    p.add_argument("--runs", type=Path, help="the runs folder (default: runs)", **(keep or {"default": Path("runs")}))


def add_service_commands(sub) -> None:
    """Add ``serve`` and ``db`` to the ``signalbench`` command's subparsers."""
    serve = sub.add_parser("serve", help="the research service: REST API, web page, jobs (the service extra)")
    _db_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--open-reads", action="store_true", help="let requests without a key read (not write)")
    serve.add_argument("--max-body", type=int, default=16 * 1024 * 1024, help="largest request body in bytes")
    serve.add_argument("--no-jobs", action="store_true", help="do not run submitted jobs in this server")
    serve.add_argument(
        "--executor",
        default="local",
        metavar="local|dask|dask://HOST:PORT",
        help="where a job's tasks run (its [compute] executor; default local)",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes of a job's tasks (default 1)")
    serve.add_argument(
        "--max-attempts", type=int, default=3, help="starts of a job, resumptions after a restart included (default 3)"
    )
    serve.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of LOBSTER or bars files served by /market-data (repeat for several)",
    )
    serve.add_argument("--redis", help="Redis URL of a running `signalbench stream infer`: relayed on /ws/predictions")
    keys = serve.add_subparsers(dest="serve_command", metavar="keys")
    keys_cmd = keys.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys_cmd.add_parser("create", help="create an API key (printed once; stored hashed)")
    _db_options(create, defaults=False)
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument(
        "--scope",
        action="append",
        choices=("read", "write", "admin"),
        required=True,
        help="a scope (repeat for several; admin implies write, write implies read)",
    )
    db = sub.add_parser("db", help="the service's database: upgrade its schema, import run folders")
    db_cmd = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_cmd.add_parser("upgrade", help="migrate the database to the newest schema (Alembic)")
    _db_options(upgrade)
    upgrade.add_argument("--revision", default="head", help="the revision to reach (default: head)")
    imp = db_cmd.add_parser("import", help="import the run folders under RUNS_DIR (idempotent)")
    imp.add_argument("runs_dir", type=Path, help="the folder of run folders")
    imp.add_argument("--db", help="database URL (default: sqlite file beside RUNS_DIR)")


def _engine(args, runs: Path):
    from signalbench.service.db import default_url, make_engine

    url = args.db or default_url(runs)
    return url, make_engine(url)


def _compute(args) -> dict:
    """The ``[compute]`` keys every job runs with: ``--executor`` and ``--workers``."""
    from signalbench.compute.executors import executor_settings

    if args.workers < 1:
        raise ValueError(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.max_attempts < 1:
        raise ValueError(f"--max-attempts: expected an integer >= 1, got {args.max_attempts}")
    return {"address": None, **executor_settings(args.executor), "workers": args.workers}


def _serve(args) -> int:
    import uvicorn

    from signalbench.service.app import create_app
    from signalbench.service.jobs import JobRunner
    from signalbench.service.migrate import check_schema
    from signalbench.service.state import Service

    compute = _compute(args)
    url, engine = _engine(args, args.runs)
    check_schema(engine, url)
    args.runs.mkdir(parents=True, exist_ok=True)
    runs = args.runs.resolve()
    runner = None if args.no_jobs else JobRunner(engine, runs, compute=compute, max_attempts=args.max_attempts)
    svc = Service(
        engine=engine,
        url=url,
        runs_dir=runs,
        open_reads=args.open_reads,
        max_body=args.max_body,
        runner=runner,
        data_dirs=[d.resolve() for d in args.data],
        extras={"redis": args.redis} if args.redis else {},
    )
    uvicorn.run(create_app(svc), host=args.host, port=args.port, log_level="warning")
    return 0


def run_service_command(args) -> int:
    """Run ``serve`` or ``db``; returns the exit status (errors go up to the CLI's one-line handler)."""
    try:
        import uvicorn  # noqa: F401
        from sqlalchemy.exc import SQLAlchemyError

        import signalbench.service.app  # noqa: F401  (fastapi, starlette)
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"signalbench {args.command} needs the service extra ({exc.name} is missing): "
            "pip install 'signalbench[service]'"
        ) from None

    try:
        return _command(args)
    except SQLAlchemyError as exc:  # cannot connect, no permission, ...: one line naming the database
        first = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        raise ConnectionError(f"--db: expected a database it can use, got {type(exc).__name__}: {first}") from None


def _command(args) -> int:
    from signalbench.service import keys, migrate

    if args.command == "serve" and getattr(args, "serve_command", None) == "keys":
        url, engine = _engine(args, args.runs)
        migrate.check_schema(engine, url)
        print(keys.create_key(engine, args.name, args.scope))
        print("the key is shown once; it is stored hashed", flush=True)
        return 0
    if args.command == "serve":
        return _serve(args)
    if args.db_command == "upgrade":
        url, engine = _engine(args, args.runs)
        before = migrate.current(engine)
        after = migrate.upgrade(engine, args.revision)
        print(f"{url}: schema revision {before or 'none'} -> {after}")
        return 0
    from signalbench.service.importer import import_runs

    url, engine = _engine(args, args.runs_dir)
    migrate.check_schema(engine, url)
    summary = import_runs(engine, args.runs_dir)
    print(summary)
    return 2 if summary.refused else 0
