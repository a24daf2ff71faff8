"""The ``signalbench`` command line.

``signalbench run EXPERIMENT.toml`` runs an experiment and writes its run folder (with ``report.html`` unless
``--no-report``; its fits and predictions are cached tasks: ``--executor local|dask|dask://host:port``,
``--workers N``, ``--cache DIR``, ``--fail-fast``, and ``signalbench run --resume RUN`` continues an interrupted run;
exit status 1 when a piece of a multi-piece run is missing, or a task of a single-piece run failed);
``signalbench validate`` checks a config (and that its data allow the split) without fitting
anything; ``signalbench demo`` runs the bundled synthetic experiment; ``signalbench audit RUN_DIR [--strict]`` re-runs
the leakage audit on a run folder (exit status 1 on a finding with ``--strict``); ``signalbench report RUN_DIR``
rebuilds a run folder's ``report.html`` and its quantstats tear sheets from its files, without retraining;
``signalbench models`` lists the registered signal models and their hyperparameters; ``signalbench stream replay |
infer`` serves a model on a Redis Stream (:mod:`signalbench.streaming.commands`); ``signalbench stream evaluate
SINK_DIR`` scores its Parquet sink against the realised labels (:mod:`signalbench.streaming.analytics`);
``signalbench serve`` runs the research service, ``signalbench db upgrade | import`` manages its database
(:mod:`signalbench.service.commands`).

Bad input (a config, a damaged run folder, a folder or file that cannot be written) ends in a one-line message naming
the file and exit status 2, never a traceback; what was there before is left as it was.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from signalbench import __version__
from signalbench.service.commands import add_service_commands, run_service_command
from signalbench.streaming.commands import add_stream_commands, run_stream_command

#: The bundled demo experiment (synthetic ticks with a planted edge of known Bayes accuracy).
DEMO = "demo.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signalbench",
        description="Honest, fast answers to one question: does this model's signal make money after costs?",
    )
    parser.add_argument("--version", action="version", version=f"signalbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", type=Path, help="run folder to write (default: runs/<name>-<UTC timestamp>)")
        p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the config's device")
        p.add_argument("--seed", type=int, help="override the config's seed")
        p.add_argument("--quiet", action="store_true", help="no progress bars (the summary is still printed)")
        p.add_argument("--no-report", action="store_true", help="do not write report.html and the tear sheets")

    run = sub.add_parser("run", help="run an experiment from a TOML file and write its run folder")
    run.add_argument("config", type=Path, nargs="?", help="the experiment TOML file (not with --resume)")
    run_options(run)
    run.add_argument(
        "--resume", type=Path, metavar="RUN", help="continue an interrupted run folder: only missing tasks run"
    )
    run.add_argument("--executor", metavar="local|dask|dask://HOST:PORT", help="where tasks run ([compute] executor)")
    run.add_argument("--workers", type=int, metavar="N", help="worker processes ([compute] workers)")
    run.add_argument("--cache", type=Path, metavar="DIR", help="the task store (default: RUN/tasks)")
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failed task")
    demo = sub.add_parser("demo", help="run the bundled synthetic experiment (planted edge, known Bayes accuracy)")
    run_options(demo)
    validate = sub.add_parser("validate", help="check an experiment file (and its data) without fitting anything")
    validate.add_argument("config", type=Path, help="the experiment TOML file")
    validate.add_argument("--schema-only", action="store_true", help="do not load the data")
    sub.add_parser("models", help="list the registered signal models and their hyperparameters")
    audit = sub.add_parser("audit", help="re-run the leakage audit on a finished run folder (writes audit.json)")
    audit.add_argument("run_dir", type=Path, help="the run folder")
    audit.add_argument("--config", type=Path, help="the experiment TOML (default: the folder's config.json)")
    audit.add_argument("--strict", action="store_true", help="exit with status 1 when the audit finds anything")
    audit.add_argument("--cache", type=Path, help="a multi-piece run's task store (default: its own, RUN_DIR/tasks)")
    report = sub.add_parser(
        "report", help="rebuild report.html and the tear sheets of a finished run folder from its files"
    )
    report.add_argument("run_dir", type=Path, help="the run folder")
    add_stream_commands(sub)
    add_service_commands(sub)
    return parser


def _print_result(res, console) -> None:
    from signalbench.experiment.console import summary_table

    m = res.metrics
    title = f"{res.experiment.name}: {m['data']}\ntested {m['tested']['first']} .. {m['tested']['last']}"
    console.print(summary_table(m["columns"], m["benchmarks"], title))
    bayes = m.get("bayes_accuracy")
    if bayes is not None:
        accs = ", ".join(
            f"{name} {v['direction_accuracy']:.3f}" for name, v in m["models"].items() if "direction_accuracy" in v
        )
        console.print(
            f"Direction accuracy on the tested rows where the mid moved: {accs}\n"
            f"Bayes-optimal accuracy of the planted edge (the best any model can do): {bayes:.3f}"
        )
    for note in m.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    _print_audit(res, console)
    if res.run_dir is not None:
        console.print(f"run folder: [bold]{res.run_dir}[/bold]")
        if (res.run_dir / "report.html").is_file():
            console.print(f"report:     [bold]{res.run_dir / 'report.html'}[/bold] (opens offline in any browser)")


def _print_audit(res, console) -> None:
    """The leakage audit's findings, once (or that it is clean)."""
    audit = getattr(res, "audit", None)
    if audit is not None:
        for f in audit.findings:
            console.print(f"[bold red]audit finding[/bold red] [{f.check}] {f.subject}: {f.message}", soft_wrap=True)
        if audit.clean:
            console.print(f"audit: clean ({', '.join(audit.checks)}: passed)")


def _compute(args) -> dict:
    """The ``[compute]`` keys set on the command line (``--executor dask://host:port`` gives the address)."""
    from signalbench.compute.executors import executor_settings

    executor = getattr(args, "executor", None)
    out: dict = {} if executor is None else executor_settings(executor)
    if getattr(args, "workers", None) is not None:
        out["workers"] = args.workers
    if getattr(args, "fail_fast", False):
        out["fail_fast"] = True
    return out


def _run(config, args) -> int:
    import warnings

    from rich.console import Console

    from signalbench.audit import AuditWarning
    from signalbench.experiment import ExperimentWarning, compare
    from signalbench.experiment.rungraph import TaskFailedError

    out, resume = args.out, getattr(args, "resume", None)
    if resume is not None:
        from signalbench.experiment.multirun import read_run_config

        if config is not None or out is not None:
            raise ValueError("--resume: expected the run folder alone, got a config or --out beside it")
        config, out = read_run_config(resume), resume
    elif config is None:
        raise ValueError("run: expected an experiment TOML file (or --resume RUN), got neither")
    with warnings.catch_warnings():  # the run's warnings and audit findings are printed once, under the table
        warnings.simplefilter("ignore", ExperimentWarning)
        warnings.simplefilter("ignore", AuditWarning)
        try:
            res = compare(
                config,
                out=out,
                seed=args.seed,
                device=args.device,
                progress=not args.quiet,
                report=not args.no_report,
                compute=_compute(args),
                cache=getattr(args, "cache", None),
                resume=resume is not None,
            )
        except TaskFailedError as exc:  # a single run's fit or prediction: named, the run folder kept to resume
            print(f"signalbench {args.command}: {exc}", file=sys.stderr)
            return 1
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped or captured: do not squeeze the table into 80 columns
    if res.metrics.get("kind") == "pieces":
        return _print_pieces(res, console)
    _print_result(res, console)
    return 0


def _print_pieces(res, console) -> int:
    """The summary of a multi-piece run; exit status 1 when a piece is missing."""
    from signalbench.experiment.console import pieces_table, pooled_table

    m = res.metrics
    if m.get("pooled"):
        head = "net return / efficiency / macro-F1"
        console.print(pieces_table(m["per_symbol"], m["pooled"], "symbol", head, m["benchmarks"]))
        console.print(pieces_table(m["per_day"], m["pooled"], "day", head, m["benchmarks"]))
        title = f"{res.experiment.name}: {m['data']}\npooled, tested {m['tested']['first']} .. {m['tested']['last']}"
        console.print(pooled_table(m["pooled"], m["benchmarks"], title))
    for note in m.get("notes", []):
        console.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    for miss in m["pieces"]["missing"]:
        where = ", ".join(f"{k} {miss[k]}" for k in ("symbol", "day", "model", "fold", "group") if k in miss)
        console.print(f"[bold red]missing[/bold red] {miss['task']} ({where}): {miss['error']}", soft_wrap=True)
    _print_audit(res, console)
    console.print(f"run folder: [bold]{res.run_dir}[/bold]")
    return 1 if m["pieces"]["missing"] else 0


def _validate(args) -> int:
    from signalbench.experiment import load_experiment, validate

    exp = load_experiment(args.config)
    if not args.schema_only:
        summary = validate(exp)
        print(summary)
    print(f"{args.config}: valid")
    return 0


def _audit(args) -> int:
    import warnings

    from signalbench.experiment.audit_run import audit_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the findings are printed below, once
        report = audit_run(args.run_dir, args.config, cache=args.cache)
    for name, outcome in report.checks.items():
        print(f"{name}: {outcome}")
    for f in report.findings:
        print(f"FINDING [{f.check}] {f.subject}: {f.message}")
    print(f"audit written to {args.run_dir / 'audit.json'}")
    return 1 if args.strict and not report.clean else 0


def _report(args) -> int:
    from signalbench.reports.html import build_report
    from signalbench.reports.tearsheets import MISSING, load_quantstats

    path = build_report(args.run_dir)
    print(f"report written to {path}")
    sheets = path.parent / "tearsheets"
    if load_quantstats() is None:
        print(f"no tear sheets: {MISSING}")
    else:
        print(f"tear sheets written to {sheets} ({len(list(sheets.glob('*.html')))} files)")
    return 0


def _models() -> int:
    import inspect

    from rich.console import Console
    from rich.table import Table

    from signalbench.signals import registry

    table = Table(title="registered signal models", header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("task")
    table.add_column("hyperparameters (defaults)")
    for name in registry.available():
        try:
            cls = registry.get(name)
        except Exception as exc:  # a plugin that fails to load is listed with the reason
            table.add_row(name, "?", f"[red]could not be loaded: {exc}[/red]")
            continue
        params = ", ".join(
            f"{p.name}={p.default!r}" for p in inspect.signature(cls).parameters.values() if p.name != "callback"
        )
        table.add_row(name, getattr(cls, "task", "?"), params)
    Console().print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``signalbench`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    from signalbench.experiment.config import ConfigError

    try:
        if args.command == "run":
            return _run(args.config, args)
        if args.command == "demo":
            with resources.as_file(resources.files("signalbench.experiment") / DEMO) as path:
                return _run(path, args)
        if args.command == "validate":
            return _validate(args)
        if args.command == "audit":
            return _audit(args)
        if args.command == "report":
            return _report(args)
        if args.command == "stream":
            return run_stream_command(args)
        if args.command in ("serve", "db"):
            return run_service_command(args)
        return _models()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError, ConnectionError, ImportError) as exc:  # RunFolderError is a ValueError
        print(f"signalbench {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.command in ("run", "demo"):  # a run folder begun (config.json) keeps its finished tasks
            why = "no result was written; `signalbench run --resume RUN` continues a run folder begun"
            print(f"interrupted: {why}", file=sys.stderr)
        else:
            print("interrupted: nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
