"""What the terminal shows while an experiment runs."""

from __future__ import annotations

import io

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
