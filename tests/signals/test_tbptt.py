"""The truncated-BPTT schedule (signals.tbptt): pieces inside runs, every labelled row once, chunks in order."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from signalbench.signals.tbptt import _lane_schedule, epoch_pieces, finite_runs


@st.composite
def masks(draw):
    n = draw(st.integers(1, 400))
    finite = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    finite |= np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)  # mostly finite
    labelled = finite & np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return finite, labelled


def test_finite_runs():
    finite = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    assert finite_runs(finite).tolist() == [[1, 3], [5, 6], [7, 10]]
    assert finite_runs(np.zeros(3, dtype=bool)).shape == (0, 2)


@settings(max_examples=60, deadline=None)
@given(m=masks(), lanes=st.integers(1, 6), chunk=st.integers(1, 30), seed=st.integers(0, 5))
def test_pieces_cover_every_labelled_row_once_inside_runs(m, lanes, chunk, seed):
    finite, labelled = m
    gen = torch.Generator().manual_seed(seed)
    pieces = epoch_pieces(finite, labelled, lanes=lanes, chunk=chunk, generator=gen, cap=None)
    covered = np.zeros(finite.size, dtype=int)
    for a, b in pieces:
        assert a < b and finite[a:b].all()  # a piece never crosses a non-finite row
        assert labelled[a:b].any()  # pieces without a label are dropped
        covered[a:b] += 1
    assert covered.max(initial=0) <= 1
    assert (covered[labelled] == 1).all()
    starts, stops, first = _lane_schedule(pieces, lanes, chunk)
    for lane in range(lanes):
        active = starts[lane] >= 0
        assert np.all(np.diff(active.astype(int)) <= 0)  # a lane is busy, then idle to the end
        for j in np.flatnonzero(active):
            lo, stop = starts[lane, j], stops[lane, j]
            assert any(a == stop and a_lo <= lo for a_lo, a in pieces)
            if not first[lane, j]:  # a later chunk of the same piece follows its predecessor directly
                assert starts[lane, j - 1] + chunk == lo and stops[lane, j - 1] == stop
            else:
                assert (lo, stop) in {(int(a), int(b)) for a, b in pieces}


def test_the_cap_keeps_whole_pieces_up_to_the_labelled_rows_asked():
    finite = np.ones(1000, dtype=bool)
    labelled = finite.copy()
    gen = torch.Generator().manual_seed(0)
    pieces = epoch_pieces(finite, labelled, lanes=10, chunk=10, generator=gen, cap=250)
    sizes = pieces[:, 1] - pieces[:, 0]
    assert sizes.sum() >= 250 and sizes[:-1].sum() < 250
