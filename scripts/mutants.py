"""Plant known bugs, one at a time, in a temporary copy of the repository and report which tests notice.

Each mutant replaces one exact piece of source text; if that text is gone (the code was rewritten), the script stops
and names the mutant so that its patch is updated, instead of silently testing nothing. Run through
``scripts/mutants.sh`` (which picks the virtual environment's python); see ``--help``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    """A planted bug: replace ``old`` (found exactly once in ``path``) by ``new``; ``tests`` should then fail."""

    name: str
    bug: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    also: tuple[tuple[str, str], ...] = ()  # (old, new) of other versions of the code: exactly one must apply


SPIES = "tests/experiment/test_runner_spies.py"
TABLE = "tests/reports/test_table.py"
AUDIT = ("tests/test_audit.py", "tests/test_audit_end_to_end.py")  # not the corpus of clean runs: it cannot kill
RELIABILITY = "tests/streaming/test_reliability.py::test_max_deliveries_is_the_last_delivery_that_is_processed"

MUTANTS = (
    Mutant("val-rows-are-tested-rows", "early stopping given the tested rows instead of the fold's validation rows",
           "signalbench/experiment/runtasks.py",
           "val = [block(features, y, f.val, L)] if f.val.size else []",
           "val = [block(features, y, f.test, L)] if f.val.size else []", (SPIES,)),
    Mutant("tuning-on-tested-rows", "strategy tuning given the tested rows instead of the validation rows",
           "signalbench/experiment/runtasks.py",
           "    val = _fold(labels, split, longest, fold, inputs).val\n",
           "    val = _fold(labels, split, longest, fold, inputs).test\n", (SPIES,)),
    Mutant("split-gap-without-horizon", "the purge gap of the splits computed without the horizon",
           "signalbench/data/splits.py",
           "    minimum = horizon + seq_len\n",
           "    minimum = seq_len\n", (SPIES, "tests/data/test_splits.py")),
    Mutant("fold-gap-without-horizon", "the experiment's purge gap computed without the horizon",
           "signalbench/experiment/folds.py",
           "    gap = horizon + seq_len\n",
           "    gap = seq_len\n", (SPIES,)),
    Mutant("audit-no-models", "the run-level audit passing no models to the causality check",
           "signalbench/experiment/audit_run.py",
           "        for name, fits in models.items()\n        for k, m in enumerate(fits)\n    }\n",
           "        for name, fits in {}.items()\n        for k, m in enumerate(fits)\n    }\n", AUDIT),
    Mutant("audit-no-scaler-check", "the run-level audit skipping the scaler check",
           "signalbench/experiment/audit_run.py",
           "        + check_scalers(models, inputs.features, folds, labels)\n", "", AUDIT,
           also=(("    hygiene += check_scalers(models, inputs.features, fits[\"models\"]) if fits else []\n", ""),)),
    Mutant("audit-no-recorded-check", "the run-level audit skipping the recorded-threshold check",
           "signalbench/experiment/audit_run.py",
           "        + check_recorded(exp, inputs, folds, metrics)\n", "", AUDIT,
           also=(("hygiene + check_recorded(exp, inputs, folds, metrics, fits)\n", "hygiene\n"),)),
    Mutant("table-no-max-drawdown", "report table: the max_drawdown row removed",
           "signalbench/reports/html.py",
           '    ("max_drawdown", 1, ".3%"),\n', "", (TABLE,)),
    Mutant("table-worst-drawdown", "report table: max_drawdown highlighting the worst value instead of the best",
           "signalbench/reports/html.py",
           '    ("max_drawdown", 1, ".3%"),\n', '    ("max_drawdown", -1, ".3%"),\n', (TABLE,)),
    Mutant("table-unscaled-percent", "report table: percentages printed unscaled",
           "signalbench/reports/html.py",
           "    return format(v, fmt)\n",
           "    return format(v, fmt[:-1] + \"f\") + \"%\" if fmt.endswith(\"%\") else format(v, fmt)\n", (TABLE,)),
    Mutant("table-first-column-everywhere", "report table: every cell showing the first column's value",
           "signalbench/reports/html.py",
           '        cells.append({"text": _cell(v, fmt),',
           '        cells.append({"text": _cell(next(iter(values.values())), fmt),', (TABLE,)),
    Mutant("consumer-deliveries-off-by-one", "consumer: max_deliveries off by one",
           "signalbench/streaming/policy.py",
           "        if deliveries > self.max_deliveries:\n",
           "        if deliveries >= self.max_deliveries:\n", (RELIABILITY,)),
    Mutant("conformance-no-mutation-on-used-data", "conformance: no_mutation compares data earlier checks altered",
           "signalbench/signals/checks.py",
           "    X, y = ctx.new().example_data(ctx.n, ctx.seed)",
           "    X, y = ctx.data", ("tests/signals/test_conformance_negative.py",)),
)  # fmt: skip


def _copy(dst: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored files) into ``dst``."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                         capture_output=True).stdout.decode()  # fmt: skip
    for rel in filter(None, out.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)


def _tests(tmp: Path, patterns: tuple[str, ...]) -> list[str]:
    """The test files (or node ids: ``file::test``) that ``patterns`` name in the copy."""
    found = sorted(
        {
            str(p.relative_to(tmp)) + pat[len(pat.split("::")[0]) :]
            for pat in patterns
            for p in tmp.glob(pat.split("::")[0])
        }
    )
    if not found:
        sys.exit(f"mutants: no test file matches {', '.join(patterns)}")
    return found


def _pytest(tmp: Path, files: list[str], maxfail: int) -> tuple[int, list[str], float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp),
        "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "ci"),
        # the copy has no ../shared/data beside it; and a test that skips cannot kill a mutant: skipping fails here
        "SIGNALBENCH_SHARED_DATA": os.environ.get("SIGNALBENCH_SHARED_DATA", str(ROOT.parent / "shared" / "data")),
        "SIGNALBENCH_REQUIRE_SYSTEM": "1",
    }
    cmd = [sys.executable, "-m", "pytest", *files, "-q", "-rf", "-p", "no:cacheprovider", f"--maxfail={maxfail}",
           "-W", "ignore"]  # fmt: skip
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
    failed = re.findall(r"^FAILED (\S+)", proc.stdout, flags=re.M)
    failed += re.findall(r"^ERROR (\S+)", proc.stdout, flags=re.M)
    if proc.returncode not in (0, 1):
        failed.append(f"(pytest exit {proc.returncode}: {proc.stdout.strip().splitlines()[-1:]})")
    return proc.returncode, failed, time.monotonic() - start


def _apply(tmp: Path, m: Mutant) -> str:
    """Plant ``m`` in the copy; return the file's original text. Exits when no patch of ``m`` applies exactly once."""
    path = tmp / m.path
    text = path.read_text()
    fits = [(old, new) for old, new in ((m.old, m.new), *m.also) if text.count(old) == 1]
    if len(fits) != 1:
        sys.exit(
            f"mutants: {m.name}: {len(fits)} of its patches apply to {m.path} (expected exactly one, its text found "
            f"once); the code changed: update the patch in scripts/mutants.py\n--- text ---\n{m.old}"
        )
    old, new = fits[0]
    path.write_text(text.replace(old, new))
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the chosen mutants: 0 when every one was killed, 1 when one survived, 2 when a patch no longer applies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all); see --list")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--all-failures", action="store_true", help="run every test of a mutant (slower)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of the test files")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    if args.list or not chosen:
        for m in MUTANTS:
            print(f"{m.name:40s} {m.bug}")
        return 0 if args.list else 2
    maxfail = 10_000 if args.all_failures else 1
    with tempfile.TemporaryDirectory(prefix="signalbench-mutants-") as tmpdir:
        tmp = Path(tmpdir)
        _copy(tmp)
        for m in chosen:  # every patch must still apply before anything runs
            (tmp / m.path).write_text(_apply(tmp, m))
        if not args.no_baseline:
            files = sorted({f for m in chosen for f in _tests(tmp, m.tests)})
            print(f"baseline: {' '.join(files)}", flush=True)
            rc, failed, secs = _pytest(tmp, files, 10_000)
            if rc != 0:
                print(f"baseline fails ({secs:.0f}s): {failed}: fix the tests before judging mutants")
                return 2
            print(f"baseline passes ({secs:.0f}s)", flush=True)
        rows = []
        for m in chosen:
            original = _apply(tmp, m)
            try:
                rc, failed, secs = _pytest(tmp, _tests(tmp, m.tests), maxfail)
            finally:
                (tmp / m.path).write_text(original)
            verdict = "killed" if rc != 0 else "SURVIVED"
            rows.append((m, verdict, failed, secs))
            print(f"{verdict:8s} {m.name} ({secs:.0f}s) {failed[0] if failed else ''}", flush=True)
    print("\n| mutant | planted bug | verdict | caught by |\n|---|---|---|---|")
    for m, verdict, failed, _ in rows:
        print(f"| {m.name} | {m.bug} | {verdict} | {'<br>'.join(failed) or '-'} |")
    survived = [m.name for m, verdict, _, _ in rows if verdict != "killed"]
    tail = f"; survived: {', '.join(survived)}" if survived else ""
    print(f"\n{len(rows) - len(survived)} of {len(rows)} killed{tail}")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
