"""Damaged or hostile run folders: ``report`` and ``audit`` end in one RunFolderError naming the file and the key.

Every JSON file that ``report`` or ``audit`` reads is corrupted in several ways (truncated, emptied, not JSON, a list
or an object where the other is expected, a value of the wrong type at each top-level key, strings for its numbers)
and each command must end in :class:`signalbench.RunFolderError` naming that file, never another exception, with
the old ``report.html`` untouched. The CLI turns it into one line on standard error and exit status 2. Writing that
fails (a folder in the way, a full disk, a read-only folder) names the path and leaves the old files as they were.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import pathlib
import shutil
import warnings

import pytest

import signalbench
from signalbench import _atomic
from signalbench.cli import main
from signalbench.experiment import ConfigError, Experiment, RunFolderError, compare
from signalbench.experiment.audit_run import audit_run
from signalbench.reports import html
from signalbench.reports.html import build_report

#: A tiny run: the LSTM (one epoch, so it has a training history and a saved torch model) and the baselines.
SMALL = {
    "name": "damaged",
    "seed": 3,
    "device": "cpu",
    "data": {"kind": "synthetic", "n": 2400, "edge": 0.6, "ticks_per_day": 1200},
    "labels": {"kind": "direction", "horizon": 1},
    "costs": {"fee_bps": 0.1, "half_spread_bps": "quoted", "delay": 1},
    "baselines": {"exclude": ["persistence"]},
    "models": [{"name": "lstm", "seq_len": 4, "hidden_size": 4, "epochs": 1, "batch_size": 256}],
    "strategies": [{"rule": "sign"}],
}
OLD_REPORT = "<html><body>the old report</body></html>\n"

#: The JSON files each command reads (environment.json is read by neither).
REPORT_FILES = ("metrics.json", "config.json", "audit.json", "history/lstm.json", "history/logistic.json")
AUDIT_FILES = ("metrics.json", "config.json", "fits.json", "models/lstm/model.json", "models/logistic/model.json")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The run folder, written once per module (no report: a stand-in report.html tells whether it was touched)."""
    out = tmp_path_factory.mktemp("damaged") / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(copy.deepcopy(SMALL), out=out, report=False)
    (out / "report.html").write_text(OLD_REPORT)
    return out


@pytest.fixture
def run(pristine, tmp_path):
    """A fresh copy of the run folder, to damage."""
    return shutil.copytree(pristine, tmp_path / "run")


# --------------------------------------------------------------------------------------------------- corruptions


def _wrong(value):
    """A value of another JSON type than ``value``, never valid where ``value`` was."""
    if isinstance(value, dict):
        return "damaged"
    if isinstance(value, list):
        return {"damaged": 1}
    if isinstance(value, str):
        return 12345
    return "damaged"


def _strings_for_numbers(value):
    if isinstance(value, dict):
        return {k: _strings_for_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings_for_numbers(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def corruptions(text: str) -> list[tuple[str, str, str]]:
    """``(what, damaged text, key the error must name)`` for one JSON file's text."""
    value = json.loads(text)
    out = [
        ("truncated", text[: len(text) // 2], ""),
        ("emptied", "", ""),
        ("not JSON", "name = 'not json'\n", ""),
        ("a list or an object instead", json.dumps([value] if isinstance(value, dict) else {"entries": value}), ""),
        ("a number of 5,000 digits", "1" * 5000, ""),
        ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000, ""),
        ("not UTF-8", "\udcff", ""),
    ]
    if isinstance(value, dict):
        out += [(f"wrong type at {k}", json.dumps({**value, k: _wrong(v)}), k) for k, v in value.items()]
    if _strings_for_numbers(value) != value:
        out.append(("strings for numbers", json.dumps(_strings_for_numbers(value)), ""))
    return out


def _ends_in_run_folder_error(action, run, name: str) -> None:
    path = run / name
    text = path.read_text()
    for what, damaged, key in corruptions(text):
        path.write_bytes(damaged.encode("utf-8", "surrogateescape"))
        with pytest.raises(RunFolderError) as info:  # any other exception fails the test
            action(run)
        message = str(info.value)
        assert path.name in message and str(path) in message, (what, message)
        assert key in message, (what, message)
        assert "\n" not in message, (what, message)
        assert (run / "report.html").read_text() == OLD_REPORT, what
    path.write_text(text)


@pytest.mark.parametrize("name", REPORT_FILES)
def test_report_on_every_damaged_file_ends_in_one_run_folder_error(run, name):
    _ends_in_run_folder_error(lambda r: build_report(r, tearsheets=False), run, name)


@pytest.mark.parametrize("name", AUDIT_FILES)
def test_audit_on_every_damaged_file_ends_in_one_run_folder_error(run, name):
    _ends_in_run_folder_error(lambda r: audit_run(r, write=False), run, name)


# ---------------------------------------------------------------------------------- the cases of the issue, named


def _edit(run, name, change):
    path = run / name
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


def _cli(args, capsys) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_metrics_values_edited_to_strings(run, pristine, capsys):
    _edit(run, "metrics.json", lambda m: {**m, "columns": {c: "high" for c in m["columns"]}})
    with pytest.raises(RunFolderError, match=r"metrics.json columns.buy_and_hold: expected an object, got 'high'"):
        build_report(run)
    shutil.copy(pristine / "metrics.json", run / "metrics.json")
    _edit(run, "metrics.json", lambda m: {**m, "columns": {c: dict(v, sharpe="1.5") for c, v in m["columns"].items()}})
    code, err = _cli(["report", str(run)], capsys)
    assert code == 2 and "sharpe: expected a number or null, got '1.5'" in err and "Traceback" not in err
    assert err.count("\n") == 1 and str(run / "metrics.json") in err
    code, err = _cli(["audit", str(run)], capsys)
    assert code == 2 and "metrics.json" in err and "sharpe" in err
    assert (run / "report.html").read_text() == OLD_REPORT


def _confusion(value):
    def change(m):
        m["models"]["lstm"]["confusion"] = value
        return m

    return change


def test_a_confusion_matrix_edited_to_text(run, capsys):
    _edit(run, "metrics.json", _confusion("9 1; 2 8"))
    with pytest.raises(RunFolderError, match=r"metrics.json models.lstm.confusion: expected null or a square matrix"):
        build_report(run)
    _edit(run, "metrics.json", _confusion([[1, 2], [3]]))
    code, err = _cli(["report", str(run)], capsys)
    assert code == 2 and "models.lstm.confusion" in err and "Traceback" not in err


def test_a_truncated_metrics_file(run, capsys):
    text = (run / "metrics.json").read_text()
    (run / "metrics.json").write_text(text[:300])
    for command in ("report", "audit"):
        code, err = _cli([command, str(run)], capsys)
        assert code == 2 and "metrics.json: expected valid JSON, got " in err and "line " in err
    assert (run / "report.html").read_text() == OLD_REPORT


def test_a_metrics_file_that_is_a_list_and_a_config_that_is_not_json(run, capsys):
    _edit(run, "metrics.json", lambda m: [m])
    for command in ("report", "audit"):
        code, err = _cli([command, str(run)], capsys)
        assert code == 2 and "metrics.json: expected an object, got [" in err
    (run / "metrics.json").write_text(json.dumps(json.loads((run / "metrics.json").read_text())[0]))
    (run / "config.json").write_text("[experiment]\nname = 'toml, not json'\n")
    for command in ("report", "audit"):
        code, err = _cli([command, str(run)], capsys)
        assert code == 2 and "config.json: expected valid JSON" in err and "Traceback" not in err


def test_a_config_edited_into_an_invalid_experiment_is_named_by_audit(run):
    _edit(run, "config.json", lambda c: {**c, "split": {**c["split"], "kind": "walkforward"}})
    with pytest.raises(RunFolderError, match=r"config.json: expected a valid experiment, got split.kind: ") as info:
        audit_run(run, write=False)
    assert str(run / "config.json") in str(info.value) and "\n" not in str(info.value)


def test_report_where_report_html_is_a_folder(run, capsys):
    (run / "report.html").unlink()
    (run / "report.html").mkdir()
    (run / "report.html" / "keep.txt").write_text("mine")
    code, err = _cli(["report", str(run)], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "report.html: expected a file it can write, got IsADirectoryError" in err
    assert str(run / "report.html") in err and "a folder is in the way" in err
    assert (run / "report.html" / "keep.txt").read_text() == "mine"


def _full_disk(monkeypatch, prefix: str):
    """Writes of temporary files whose name starts with ``prefix`` fail at the flush, as on a full disk."""
    real = _atomic._fsync_path

    def fsync(path):
        if path.name.startswith(prefix):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path)

    monkeypatch.setattr(_atomic, "_fsync_path", fsync)


def test_report_on_a_full_disk_names_the_path_and_keeps_the_old_report(run, monkeypatch, capsys):
    # the write is under test, not the plots
    monkeypatch.setattr(html, "_figures", lambda run_dir, metrics, trades=None: [])
    monkeypatch.setattr("signalbench.reports.tearsheets.load_quantstats", lambda: None)
    _full_disk(monkeypatch, ".report.html.")
    code, err = _cli(["report", str(run)], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "report.html: expected a file it can write, got OSError (No space left on device)" in err
    assert str(run / "report.html") in err and "the old report.html is intact" in err
    assert (run / "report.html").read_text() == OLD_REPORT
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def _read_only(monkeypatch, folder: pathlib.Path):
    """Creating anything inside ``folder`` fails with a PermissionError (root ignores chmod, so it is simulated)."""
    real = pathlib.Path.mkdir

    def mkdir(self, *args, **kwargs):
        if folder in self.parents:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)


def test_run_out_in_a_read_only_folder_fails_before_fitting(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(monkeypatch, locked)
    fitted = []
    monkeypatch.setattr("signalbench.experiment.runner._fit_all", lambda *a, **k: fitted.append(1))
    code, err = _cli(["demo", "--quiet", "--out", str(locked / "run")], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "locked: expected a folder it can write, got PermissionError (Permission denied)" in err
    assert str(locked) in err and "nothing was fitted or written" in err
    assert not fitted and list(locked.iterdir()) == []


def test_a_write_that_fails_at_the_end_of_a_run_leaves_nothing(tmp_path, monkeypatch):
    """A model save that hits a full disk while the results are written: one error naming the path, no result file.

    The run folder keeps what it had before the results (config.json, the task store), so the run resumes.
    """
    from signalbench.signals.persistence import Persistent

    real = Persistent.save

    def full(self, path, **kwargs):
        if "models" in pathlib.Path(path).parts:  # the run folder's models/, not the task store
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path, **kwargs)

    monkeypatch.setattr("signalbench.signals.persistence.Persistent.save", full)
    cfg = {**copy.deepcopy(SMALL), "models": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RunFolderError, match="No space left on device") as info:
            compare(cfg, out=tmp_path / "run", report=False)
    assert str(tmp_path / "run") in str(info.value) and "nothing was written" in str(info.value)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "environment.json", "tasks"]


def test_the_error_is_exported_where_users_look():
    assert signalbench.RunFolderError is RunFolderError
    assert signalbench.reports.RunFolderError is RunFolderError
    assert issubclass(RunFolderError, ValueError)


# ----------------------------------------------------------------------------------------------- compare and labels


def test_compare_refuses_two_models_under_one_name_as_the_toml_path_does(tmp_path):
    cfg = {**copy.deepcopy(SMALL), "models": [{"name": "logistic"}, {"name": "logistic", "alpha": 0.1}]}
    with pytest.raises(ConfigError) as from_dict:
        compare(cfg, write=False)
    exp = Experiment.model_validate({**cfg, "base_dir": "."})
    with pytest.raises(ConfigError) as from_object:
        compare(exp, out=tmp_path / "run")
    for info in (from_dict, from_object):
        assert "models[1].label: column 'logistic' is already used by models[0]; give a distinct label" in str(
            info.value
        )
    assert not (tmp_path / "run").exists()


def test_the_labels_row_shows_one_definition_when_every_fold_agrees(pristine):
    metrics = json.loads((pristine / "metrics.json").read_text())
    same = {"horizon": 1, "kind": "direction", "threshold": 0.0}
    facts = dict(html._facts({**metrics, "labels": [same, same, same]}, None))
    assert facts["labels"] == json.dumps(same)
    other = {**same, "threshold": 0.5}
    facts = dict(html._facts({**metrics, "labels": [same, other]}, None))
    assert facts["labels"] == f"fold 1: {json.dumps(same)}; fold 2: {json.dumps(other)}"


@pytest.mark.parametrize("kind", ["folder", "pipe", "broken link"])
def test_a_folder_a_pipe_or_a_broken_link_in_place_of_a_json_file(run, kind):
    path = run / "metrics.json"
    path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "pipe":
        os.mkfifo(path)  # reading it would block for ever
    else:
        path.symlink_to(run / "nowhere.json")
    for action in (lambda: build_report(run, tearsheets=False), lambda: audit_run(run, write=False)):
        with pytest.raises(
            RunFolderError, match=r"metrics.json: expected a regular file, got a (folder|special|broken)"
        ):
            action()


@pytest.mark.parametrize("name", ["returns.parquet", "positions.parquet", "predictions.parquet"])
def test_a_truncated_table_is_named_before_anything_is_rebuilt(run, name, capsys):
    data = (run / name).read_bytes()
    (run / name).write_bytes(data[: len(data) // 2])
    before = sorted(p.name for p in (run / "tearsheets").iterdir()) if (run / "tearsheets").exists() else None
    code, err = _cli(["report", str(run)], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert f"{name}: expected a readable parquet table, got " in err and str(run / name) in err
    assert (run / "report.html").read_text() == OLD_REPORT
    after = sorted(p.name for p in (run / "tearsheets").iterdir()) if (run / "tearsheets").exists() else None
    assert after == before  # the tear sheets were not rebuilt either
