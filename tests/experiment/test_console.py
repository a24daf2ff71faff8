"""What the terminal shows while an experiment runs."""

from __future__ import annotations

import io
import re

from rich.console import Console

from signalbench.experiment.console import Reporter
from signalbench.signals import create


def test_the_epoch_bar_counts_the_epochs_a_model_trains():
    model = create("lstm", seq_len=3, hidden_size=4, num_layers=1, epochs=4, batch_size=64, patience=100)
    X, y = model.example_data(160, 0)
    out = io.StringIO()
    with Reporter(console=Console(file=out, width=160, force_terminal=False)) as reporter:
        callback, close = reporter.epochs("lstm", 4)
        model.fit(X, y, callback=callback)
        close()
        task = reporter._progress.tasks[0]
        assert (task.completed, task.total) == (4, 4)  # 4 epochs: 4/4, not 5/5
    assert len(model.history_) == 4
    assert "4/4" in out.getvalue() and "5/5" not in out.getvalue()


def _render(table) -> list[str]:
    from rich.console import Console

    console = Console(width=300, record=True, color_system=None)
    console.print(table)
    lines = [line for line in console.export_text().splitlines() if re.search(r"[A-Za-z0-9]", line)]
    return [" ".join(x.strip() for x in re.split(r"[┃│]", line) if x.strip()) for line in lines]


def _figures(k: float) -> dict:
    return {"net_return": k, "signal_efficiency": k / 10, "macro_f1": None}


def test_a_pieces_table_runs_the_longer_list_down_its_rows_models_before_benchmarks():
    from signalbench.experiment.console import pieces_table

    cols = ["oracle", "m:sign", "m:threshold", "n:sign"]  # a benchmark first, as metrics.json's sorted keys give it
    pooled = {c: _figures(0.5) for c in cols}
    few = {s: {c: _figures(0.1 * (i + 1)) for c in cols} for i, s in enumerate(["AAA", "BBB"])}
    lines = _render(pieces_table(few, pooled, "symbol", "t", ["oracle"]))
    header = lines[1].split()
    assert header[:1] == ["column"] and header[1:] == ["AAA", "BBB", "pooled"]  # 2 symbols < 4 columns: transposed
    assert [line.split()[0] for line in lines[2:]] == ["m:sign", "m:threshold", "n:sign", "oracle"]
    assert "+0.1000" in lines[2] and "+0.2000" in lines[2] and "+0.5000" in lines[2]
    days = {f"2024-01-0{d}": {c: _figures(0.01 * d) for c in cols[:2]} for d in range(1, 6)}
    lines = _render(pieces_table(days, {c: pooled[c] for c in cols[:2]}, "day", "t", ["oracle"]))
    assert lines[1].split() == ["day", "m:sign", "oracle"]  # 5 days > 2 columns: days down the rows
    assert [line.split()[0] for line in lines[2:]] == [*days, "pooled"]
