"""The leakage audit of multi-piece runs (issue 17): fits.json records each fit's pieces and rows; audit.json judges.

A clean run over 2 symbols x 3 days (one day trains, one validates, one is tested) passes every check, from the run
and again from its folder (``signalbench audit RUN --strict``). Leaks planted into a real run (a tested day in the
training frame through the fold specification, a scaler fit on more rows than the fit was given) and edits of a
finished folder's fits.json (a fit claiming other rows, parts other than the config's, a prediction kept on other
rows) are named with their symbol, day, model and fold, and ``signalbench audit RUN --strict`` exits with status 1.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from signalbench.audit import AuditWarning
from signalbench.audit.pieces import check_piece_split
from signalbench.cli import main
from signalbench.experiment import compare, graph, tasks
from signalbench.experiment.piecefolds import Member

TICKS = 200
# pieces are sorted by (day, symbol): 0, 1 train (2020-01-02), 2, 3 validate (2020-01-03), 4, 5 tested (2020-01-06)
TESTED = {4: "SYN0 2020-01-06", 5: "SYN1 2020-01-06"}


def config() -> dict:
    return {
        "name": "pieces-audit",
        "seed": 5,
        "data": {"kind": "synthetic", "n": 3 * TICKS, "ticks_per_day": TICKS, "symbols": 2, "edge": 0.4},
        "labels": {"kind": "direction", "horizon": 1},
        "split": {"kind": "days", "train_days": 1, "val_days": 1, "test_days": 1, "pool": "all"},
        "baselines": {"exclude": ["persistence", "majority"]},
        "costs": {"fee_bps": 0.1},
        "compute": {"workers": 1},
    }


def run(out: Path, report: bool = False, cfg: dict | None = None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AuditWarning)
        res = compare(cfg or config(), out=out, report=report)
    return res, [w for w in caught if issubclass(w.category, AuditWarning)]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("pieces") / "run"
    res, _ = run(out, report=True)
    return out, res


def _copy(clean_run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(clean_run, target)
    return target


def _audit(folder: Path) -> tuple[int, dict]:
    status = main(["audit", str(folder), "--strict"])
    return status, json.loads((folder / "audit.json").read_text())


# ------------------------------------------------------------------------------------------------------- clean


def test_a_clean_multi_piece_run_passes_every_check_and_records_each_fit(clean):
    folder, res = clean
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["clean"] and res.audit.clean
    assert set(audit["checks"]) == {"causality", "features_vs_future", "split_hygiene", "too_good"}
    assert all(v.startswith("passed") for v in audit["checks"].values())
    assert "on 2 of 2 tested pieces" in audit["checks"]["causality"]
    fits = json.loads((folder / "fits.json").read_text())
    assert fits["kind"] == "pieces" and fits["horizon"] == 1
    days = [(p["symbol"], p["day"]) for p in fits["pieces"]]
    assert days == [(s, d) for d in ("2020-01-02", "2020-01-03", "2020-01-06") for s in ("SYN0", "SYN1")]
    (fit,) = fits["models"]["logistic"]
    assert (fit["fold"], fit["group"]) == (1, "all")
    # 200 rows a piece, a label 1 row ahead: rows 0..198 are labelled, each block is its piece's rows 0..198
    assert [(b["piece"], b["rows"], b["labelled"]) for b in fit["train"]] == [
        (0, [0, 199], [[0, 199]]),
        (1, [0, 199], [[0, 199]]),
    ]
    assert [b["piece"] for b in fit["val"]] == [2, 3]
    assert [(p["piece"], p["scored"]) for p in fit["predict"]] == [(4, [0, TICKS]), (5, [0, TICKS])]
    html = (folder / "report.html").read_text()
    assert "audit: clean" in html and "audit: not made" not in html
    assert _audit(_copy(folder, folder.parent / "again"))[0] == 0  # the same verdict from the folder alone


def test_the_pure_check_names_a_piece_whose_purge_is_too_short():
    fits = {
        "horizon": 5,
        "pieces": [{"symbol": "AAA", "day": "2024-01-02"}],
        "folds": [
            {
                "fold": 1,
                "parts": [
                    {
                        "piece": 0,
                        "role": "rows",
                        "train": [[0, 100]],
                        "val": [],
                        "test": [[103, 200]],
                        "span": [103, 200],
                    }
                ],
                "thresholds": [],
            },
        ],
    }
    (finding,) = check_piece_split(fits)
    assert finding.subject == "AAA 2024-01-02 (fold 1)" and finding.figures["label_reach"] == 104
    fits["folds"][0]["parts"][0]["test"] = [[105, 200]]  # the last training label reads row 104: purged
    assert check_piece_split(fits) == []


# ------------------------------------------------------------------------------------------- planted into a run


def test_a_tested_day_in_the_training_frame_is_named(tmp_path, monkeypatch):
    honest = graph.fold_members

    def tested_days_also_train(split, days):
        folds = honest(split, days)
        return [ms + [Member(m.piece, m.fold, "train") for m in ms if m.role == "test"] for ms in folds]

    monkeypatch.setattr(graph, "fold_members", tested_days_also_train)
    res, warned = run(tmp_path / "run")
    subjects = {f.subject for f in res.audit.findings}
    assert {f"logistic (fold 1, {name})" for name in TESTED.values()} <= subjects
    assert all(f.check == "split_hygiene" for f in res.audit.findings)
    assert any("holds 199 tested row(s) of SYN0 2020-01-06" in f.message for f in res.audit.findings)
    assert len(warned) == len(res.audit.findings)
    monkeypatch.undo()
    status, audit = _audit(tmp_path / "run")
    assert status == 1 and {f["subject"] for f in audit["findings"]} >= subjects


def test_a_scaler_fit_on_more_rows_than_the_fit_was_given_is_named(tmp_path, monkeypatch):
    honest = tasks.fit_task

    def scale_on_every_piece(**kw):
        out = honest(**kw)
        frames = [v["features"].to_numpy() for k, v in kw.items() if k.startswith("piece_")]
        X = np.vstack(frames)
        X = X[np.isfinite(X).all(axis=1)]
        out["model"].scaler_mean_ = X.mean(axis=0)  # training and validation pieces: more than fit was given
        return out

    monkeypatch.setattr(tasks, "fit_task", scale_on_every_piece)
    res, _ = run(tmp_path / "run")
    (finding,) = res.audit.findings
    assert (finding.check, finding.subject) == ("split_hygiene", "logistic (fold 1, group all)")
    assert "SYN0 2020-01-02 rows 0..198, SYN1 2020-01-02 rows 0..198" in finding.message
    monkeypatch.undo()
    assert _audit(tmp_path / "run")[0] == 1


# ------------------------------------------------------------------------------------------ an edited fits.json


def _claim_a_tested_piece(fits):
    fits["models"]["logistic"][0]["train"][0]["piece"] = 4
    return "logistic (fold 1, SYN0 2020-01-06)"


def _other_parts(fits):
    part = next(p for p in fits["folds"][0]["parts"] if p["piece"] == 5)
    part["test"] = [[0, 100]]
    return "SYN1 2020-01-06 (fold 1)"


def _other_scored_rows(fits):
    fits["models"]["logistic"][0]["predict"][0]["scored"] = [50, TICKS]
    return "logistic (fold 1, SYN0 2020-01-06)"


@pytest.mark.parametrize("edit", [_claim_a_tested_piece, _other_parts, _other_scored_rows])
def test_an_edited_fits_json_fails_the_audit_naming_the_piece(clean, tmp_path, edit):
    folder = _copy(clean[0], tmp_path)
    fits = json.loads((folder / "fits.json").read_text())
    subject = edit(fits)
    (folder / "fits.json").write_text(json.dumps(fits))
    status, audit = _audit(folder)
    assert status == 1 and not audit["clean"]
    assert subject in {f["subject"] for f in audit["findings"]}


def test_a_folder_without_fits_json_is_refused_with_a_clear_error(clean, tmp_path, capsys):
    folder = _copy(clean[0], tmp_path)
    (folder / "fits.json").unlink()
    (folder / "audit.json").unlink()
    assert main(["audit", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "run_dir: expected a multi-piece run folder with its fits.json" in err and "run the experiment again" in err
    assert not (folder / "audit.json").exists()


def test_a_stationary_band_fit_on_tested_rows_is_named(tmp_path, monkeypatch):
    honest = tasks.threshold_task

    def band_on_every_row(labels, split, longest, members, **pieces):
        out = honest(labels=labels, split=split, longest=longest, members=members, **pieces)
        price = np.concatenate([p["price"].to_numpy() for p in pieces.values()])
        change = np.abs(np.diff(price) / price[:-1])  # a piece's every row, its tested ones included
        out["threshold"] = float(np.quantile(change, labels["stationary_quantile"]))  # the record stays honest
        return out

    cfg = config()
    cfg["data"].update(n=2 * TICKS, ticks_per_day=2 * TICKS)  # 2 symbols x 1 day: a row split inside each piece
    cfg["split"] = {"kind": "holdout", "train": 0.5, "val": 0.2, "test": 0.3, "pool": "all"}
    cfg["labels"]["stationary_quantile"] = 0.33
    clean, warned = run(tmp_path / "clean", cfg=cfg)
    assert clean.audit.clean and not warned, [f.subject for f in clean.audit.findings]
    monkeypatch.setattr(tasks, "threshold_task", band_on_every_row)
    res, warned = run(tmp_path / "run", cfg=cfg)
    assert [(f.check, f.subject) for f in res.audit.findings] == [("split_hygiene", "labels (fold 1, group all)")]
    assert "is not the one fit on the training rows recorded for it" in res.audit.findings[0].message
    assert len(warned) == 1


def test_an_audit_without_the_task_store_says_what_it_could_not_check(clean, tmp_path):
    folder = _copy(clean[0], tmp_path)
    shutil.rmtree(folder / "tasks")  # the pieces are loaded again from the data; the fitted models are gone
    status, audit = _audit(folder)
    assert status == 0 and audit["clean"]
    assert "1 fit(s) not in the task store: their scalers were not checked" in audit["checks"]["split_hygiene"]
    assert "1 fit(s) not in the task store: their predictions were not checked" in audit["checks"]["causality"]
