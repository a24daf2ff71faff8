"""The run folder's one owner: its layout, its writer and every reader (reports, audit, streaming, experiment).

Layout 2 (``runs/<name>-<UTC timestamp>/``, or the folder given with ``--out``)::

    run.json             {"layout": 2, "models": {"<folder>": {"model": name, "fold": k}}}: the layout number, and
                         the model and fold (1-based) each folder under models/ holds
    config.toml          the experiment as given (a copy of the file, when run from one)
    config.json          the resolved experiment: every default filled in, the seed and device actually used
    environment.json     Python and package versions, git commit (when the code is a git checkout), device, threads
    metrics.json         {"columns": {column: {...}}, "benchmarks": [...], "models": {model: {...}},
                          "split": {...}, "notes": [...], "bayes_accuracy": ...}: classification and trading metrics
    metrics.csv          the same metrics as a table: one row per metric, one column per model x strategy
    fits.json            {"format": 1, "folds": [...], "models": {model: [per fold: {"fold", "train", "val",
                         "predict"}]}}: the split as used and the rows given to each fit and prediction
                         (:mod:`signalbench.experiment.fits`): what the audit judges the models against; a
                         multi-piece run's has ``"kind": "pieces"`` and names the piece of every block
                         (:mod:`signalbench.experiment.piecefits`; its shape ``_runfiles.FITS_PIECES``)
    predictions.parquet  tested rows: label, and each model's class probabilities (``<model>:p0``, ``:p1``, ``:p2``)
    positions.parquet    tested rows: the target position of every column (benchmarks included)
    returns.parquet      tested rows: the traded price, each column's net return and its gross return (``gross:<col>``)
    models/<folder>/     each fitted model, loadable with ``signalbench.load_model``; the folder is ``<model>`` in a
                         one-fold run, ``<model>-fold<k>`` otherwise (:func:`model_folder`)
    history/<model>.json each model's training history (per epoch: train and validation loss and accuracy)
    audit.json           the leakage audit (:mod:`signalbench.audit`): the checks that ran and every finding
    report.html          the self-contained HTML report (:mod:`signalbench.reports.html`), unless ``report=False``
    tearsheets/          one quantstats tear sheet per model x strategy column, ``<column>.html``
                         (:mod:`signalbench.reports.tearsheets`; needs the ``reports`` extra), unless ``report=False``

Layout 1 is the same without ``run.json``; it still opens (model folders are then parsed by name). A later layout is
a :class:`signalbench.RunFolderError` naming the version and what this code reads. The JSON files' shapes are in
:mod:`signalbench._runfiles`. A shared private package: the standard library, NumPy and pandas only.
"""

from signalbench._runfolder.fits import RecordedFold, fold_rows, ranges, rows_of
from signalbench._runfolder.layout import FILES, VERSION, layout_of, model_folder, parse_model_folder, run_record
from signalbench._runfolder.read import (
    TABLES,
    audit_of,
    check_run,
    config_of,
    fits_of,
    fold_of_model,
    histories_of,
    metrics_of,
    model_folders,
    read_table,
    run_of_model,
)
from signalbench._runfolder.write import (
    check_destination,
    default_run_dir,
    run_folder,
    to_jsonable,
    write_audit,
    write_json,
    write_run_record,
)

__all__ = [
    "FILES",
    "TABLES",
    "RecordedFold",
    "VERSION",
    "audit_of",
    "check_destination",
    "check_run",
    "config_of",
    "default_run_dir",
    "fits_of",
    "fold_of_model",
    "fold_rows",
    "histories_of",
    "layout_of",
    "metrics_of",
    "model_folder",
    "model_folders",
    "parse_model_folder",
    "ranges",
    "read_table",
    "run_folder",
    "run_of_model",
    "run_record",
    "rows_of",
    "to_jsonable",
    "write_audit",
    "write_json",
    "write_run_record",
]
