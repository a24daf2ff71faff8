"""Hand a backtest over to vectorbt (optional extra ``signalbench[vectorbt]``) for its records and plots.

:func:`to_vectorbt` builds ``vectorbt.Portfolio.from_orders`` on the prices the backtest priced and the exposure
it executed (``docs/architecture.md``). Without costs the two describe the same portfolio and their returns and
compounded equity agree to rounding (``tests/engine/test_handoff.py`` holds them to 1e-9). With costs they differ,
by a second-order amount per bar (cost times price move, plus cost squared), for two reasons:

1. **Rebalancing drift.** signalbench holds a constant fraction ``e[t]`` of equity from bar to bar and charges
   ``k |e[t] - e[t-1]|``: while the target does not change nothing is traded and nothing is paid (constant
   notional exposure). vectorbt's target-percent orders rebalance every bar: a held fraction ``a`` drifts to
   ``a (1 + x) / (1 + a x)`` over a price move ``x``, and vectorbt trades that drift back to the target and pays
   ``k`` on it, even on bars where the target is unchanged.
2. **Fees out of the order.** vectorbt buys ``e * V`` of stock and then pays the fee from cash, so after the
   trade its exposure is ``e / (1 - k u)`` of the remaining equity (``u`` the traded fraction), not ``e``.

``tests/engine/test_vectorbt.py`` derives the per-bar bound ``k (6.5 |x| + 2.2 k)`` on the difference and checks
it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from signalbench.engine.trades import Priced

#: vectorbt's starting cash: returns are scale-free, and a large account keeps share counts far above its
#: absolute float tolerances (with 1 unit of cash, small targets were snapped to zero).
INIT_CASH = 1e8


def _require_vectorbt() -> Any:
    try:
        import vectorbt
    except ImportError as exc:
        raise ImportError("to_vectorbt() needs the vectorbt extra: pip install 'signalbench[vectorbt]'") from exc
    return vectorbt


def to_vectorbt(priced: Priced, **kwargs: Any) -> Any:
    """``vectorbt.Portfolio.from_orders`` on the backtest's prices, executed exposure and all-in per-unit cost.

    Orders are ``size_type="targetpercent"``, ``direction="both"``, placed at the bar's price (the exposure is
    the executed one, so ``delay`` and ``close_at_end`` are already applied), with ``fees`` the per-unit cost
    ``(fee_bps + half_spread_bps + slippage_bps) / 1e4`` of each cell and ``init_cash`` :data:`INIT_CASH`.
    ``kwargs`` go to ``from_orders`` and override these (e.g. ``freq="1min"`` for vectorbt's annualized stats).
    """
    vbt = _require_vectorbt()
    sim, costs, template = priced.sim, priced.costs, priced.template
    n, m = sim.exposure.shape
    index = template.index if template.index is not None else pd.RangeIndex(n)
    columns = template.columns

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(np.broadcast_to(a, (n, m)), index=index, columns=columns)

    fees = (costs.fee + costs.half_spread + costs.slippage) / 1e4
    options = {
        "size_type": "targetpercent",
        "direction": "both",
        "fees": frame(fees),
        "init_cash": INIT_CASH,
        **kwargs,
    }
    return vbt.Portfolio.from_orders(frame(priced.price), frame(sim.exposure), **options)
