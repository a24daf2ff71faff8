"""The report's figures, drawn with matplotlib's object API (no pyplot state, no global backend or font change).

Every function takes plain pandas/NumPy data read from a run folder and returns a ``matplotlib.figure.Figure``;
:func:`to_data_uri` turns one into a base64 PNG for a self-contained HTML file. Long lines are drawn through
:func:`signalbench.reports.downsample.minmax_downsample` (at most ~10,000 points each). Fonts: DejaVu Sans, which ships
with matplotlib, set only inside :func:`style`. See ``docs/architecture.md``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from signalbench.reports.downsample import minmax_downsample

__all__ = [
    "calibration_table",
    "confusion_figure",
    "cost_figure",
    "history_figure",
    "probability_figure",
    "reliability_figure",
    "style",
    "to_data_uri",
    "zoom_figure",
]

_RC = {"font.family": "DejaVu Sans", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "svg.fonttype": "none"}
_CLASS_NAMES = {3: ("down", "stationary", "up"), 2: ("down", "up")}
_BENCH = {"oracle": ("black", "--"), "naive_oracle": ("grey", "--"), "buy_and_hold": ("darkgoldenrod", ":")}


@contextmanager
def style() -> Iterator[None]:
    """The report's matplotlib settings (DejaVu Sans, light grid), for the duration of the block only."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def _figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (9.0, 3.6)) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def to_data_uri(fig: Any, dpi: int = 90) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (the Agg renderer; nothing global is touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _legend_outside(ax: Any) -> None:
    """The legend of ``ax`` right of every panel, where it cannot hide a line (constrained layout makes room)."""
    ax.figure.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize=7)


def _date_ticks(ax: Any, x: np.ndarray) -> None:
    """At most six concise date ticks ("13:30", the day once) on a datetime x axis, so labels never overlap."""
    if np.issubdtype(np.asarray(x).dtype, np.datetime64) or isinstance(x, pd.DatetimeIndex):
        from matplotlib import dates as mdates

        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _line(ax: Any, x: np.ndarray, y: np.ndarray, **kw: Any) -> None:
    keep = minmax_downsample(y)
    ax.plot(x[keep], y[keep], lw=kw.pop("lw", 1.0), **kw)


def _color(col: str, k: int) -> dict[str, Any]:
    if col in _BENCH:
        c, ls = _BENCH[col]
        return {"color": c, "linestyle": ls}
    return {"color": f"C{k % 10}"}


def history_figure(histories: Mapping[str, list[dict[str, Any]]]) -> Any:
    """Training and validation loss (left) and accuracy (right) per epoch, one colour per model."""
    with style():
        fig, axes = _figure(1, 2)
        for k, (name, epochs) in enumerate(histories.items()):
            frame = pd.DataFrame(epochs)
            for ax, metric in zip(axes[0], ("loss", "accuracy")):
                for split, ls in (("train", "-"), ("val", "--")):
                    col = f"{split}_{metric}"
                    if col in frame:
                        ax.plot(frame["epoch"], frame[col], ls, color=f"C{k}", marker="o", label=f"{name} {split}")
        for ax, metric in zip(axes[0], ("loss", "accuracy")):
            ax.set(xlabel="epoch", ylabel=metric, title=f"{metric} (solid: training, dashed: validation)")
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0][0].legend(fontsize=7)
    return fig


def _cost_axis(breakeven: pd.Series, turnover: pd.Series) -> float:
    """Cost axis end: 1.5 x the largest breakeven among the columns that trade much (>= 10% of the top turnover)."""
    active = breakeven[turnover[breakeven.index] >= 0.1 * turnover.max()]
    finite = active[np.isfinite(active) & (active > 0)]
    return float(max(1.0, 1.5 * finite.max())) if len(finite) else 5.0


def cost_figure(gross_total: pd.Series, turnover: pd.Series, max_bps: float | None = None) -> Any:
    """Net additive return against an all-in cost per unit traded, with each column's breakeven cost marked.

    Net at cost ``c`` bps is ``gross - c / 1e4 * turnover``; breakeven is where it crosses zero. A column whose
    breakeven lies beyond the axis says so in the legend.
    """
    traded = turnover[turnover > 0].index
    breakeven = 1e4 * gross_total[traded] / turnover[traded]
    top = max_bps or _cost_axis(breakeven, turnover)
    bps = np.linspace(0.0, top, 200)
    with style():
        fig, axes = _figure()
        ax = axes[0][0]
        for k, col in enumerate(turnover.index):
            if col not in traded:
                continue
            net = gross_total[col] - bps * 1e-4 * turnover[col]
            inside = 0 <= breakeven[col] <= top
            label = col if inside else f"{col} (breakeven {breakeven[col]:.3g} bps)"
            ax.plot(bps, net, label=label, **_color(col, k))
            if inside:
                ax.plot([breakeven[col]], [0.0], "o", color=_color(col, k)["color"])
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set(
            xlabel="cost per unit traded (bps)",
            ylabel="net return (additive)",
            title="net return against cost; dots mark the breakeven cost",
        )
        _legend_outside(ax)
    return fig


def capacity_figure(curve: Mapping[str, Any]) -> Any:
    """Net return against the size traded on the book (log scale), each column's capacity marked where it lies.

    ``curve`` is ``metrics.json``'s ``capacity``: ``sizes``, ``net_return`` (per column, one value per size) and
    ``capacity`` (the size where net return crosses zero; 0 below the smallest size; null, with the column in
    ``above_largest``, when positive at every size, else when it never trades).
    """
    sizes = np.asarray(curve["sizes"], dtype=float)
    with style():
        fig, axes = _figure()
        ax = axes[0][0]
        for k, (col, net) in enumerate(curve["net_return"].items()):
            y = np.array([np.nan if v is None else v for v in net], dtype=float)
            cap = curve.get("capacity", {}).get(col)
            if cap is None:
                above = col in curve.get("above_largest", [])
                label = f"{col} (capacity above {sizes[-1]:g})" if above else f"{col} (never trades)"
            else:
                label = f"{col} (capacity {cap:.3g})"
            ax.plot(sizes, y, marker="o", ms=3, label=label, **_color(col, k))
            if cap is not None and sizes[0] <= cap <= sizes[-1]:
                ax.plot([cap], [0.0], "D", color=_color(col, k)["color"])
        ax.set_xscale("log")
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set(
            xlabel="size (shares at exposure 1)",
            ylabel="net return (additive)",
            title="net return against size on the order book; diamonds mark each column's capacity",
        )
        _legend_outside(ax)
    return fig


def _confidence(pred: pd.DataFrame, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cols = [c for c in pred.columns if c.startswith(f"{model}:p")]
    proba = pred[cols].to_numpy(dtype=np.float64)
    label = pred["label"].to_numpy(dtype=np.float64)
    ok = np.isfinite(label) & np.isfinite(proba).all(axis=1)
    classes = np.array([float(c.rsplit(":p", 1)[1]) for c in cols])
    return proba[ok].max(axis=1), classes[proba[ok].argmax(axis=1)] == label[ok], proba[ok]


def calibration_table(pred: pd.DataFrame, model: str, bins: int = 10) -> pd.DataFrame:
    """Per confidence bucket (top-class probability): rows, mean confidence, hit rate (empty buckets left out)."""
    conf, hit, _ = _confidence(pred, model)
    edges = np.linspace(0.0, 1.0, bins + 1)
    bucket = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, bins - 1)
    frame = pd.DataFrame({"bucket": bucket, "confidence": conf, "hit": hit.astype(float)})
    out = frame.groupby("bucket").agg(
        count=("hit", "size"), mean_confidence=("confidence", "mean"), hit_rate=("hit", "mean")
    )
    out.index = [f"{edges[b]:.1f}-{edges[b + 1]:.1f}" for b in out.index]
    return out


def reliability_figure(pred: pd.DataFrame, models: list[str], min_rows: int = 20) -> Any:
    """Hit rate against mean confidence per bucket, one line per model; the diagonal is perfect calibration.

    Buckets with fewer than ``min_rows`` rows are left out of the drawing (their hit rate is noise); the
    accuracy-by-confidence table (:func:`calibration_table`) lists every bucket.
    """
    with style():
        fig, axes = _figure(size=(5.0, 4.2))
        ax = axes[0][0]
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        for k, m in enumerate(models):
            t = calibration_table(pred, m)
            t = t[t["count"] >= min_rows]
            ax.plot(t["mean_confidence"], t["hit_rate"], marker="o", ms=3, color=f"C{k}", label=m)
        ax.set(
            xlabel="mean confidence (top-class probability)",
            ylabel="hit rate",
            xlim=(0, 1.02),  # a bucket at confidence 1 stays visible
            ylim=(0, 1.02),
            title=f"reliability diagram (buckets of >= {min_rows} rows)",
        )
        ax.legend(fontsize=7)
    return fig


def probability_figure(pred: pd.DataFrame, models: list[str]) -> Any:
    """Histograms of each model's predicted class probabilities (one panel per model)."""
    with style():
        fig, axes = _figure(1, max(1, len(models)), (max(4.0, 2.6 * len(models)), 2.8))
        for ax, m in zip(axes[0], models):
            _, _, proba = _confidence(pred, m)
            names = _CLASS_NAMES.get(proba.shape[1], tuple(f"class {j}" for j in range(proba.shape[1])))
            for j in range(proba.shape[1]):
                ax.hist(proba[:, j], bins=np.linspace(0, 1, 41), alpha=0.5, label=f"p({names[j]})")
            ax.set(title=m, xlabel="probability")
        axes[0][0].set_ylabel("rows")
        _legend_outside(axes[0][-1])
    return fig


def confusion_figure(confusions: Mapping[str, Any]) -> Any:
    """One confusion matrix per model (rows: true class, columns: predicted class), counts written in the cells."""
    with style():
        fig, axes = _figure(1, max(1, len(confusions)), (max(4.0, 2.6 * len(confusions)), 2.8))
        for ax, (m, cm) in zip(axes[0], confusions.items()):
            cm = np.asarray(cm)
            ax.imshow(cm, cmap="Blues", aspect="auto")
            ax.grid(False)
            for (i, j), v in np.ndenumerate(cm):
                ax.text(
                    j, i, str(v), ha="center", va="center", fontsize=8, color="white" if v > cm.max() / 2 else "black"
                )
            names = _CLASS_NAMES.get(cm.shape[0], tuple(str(j) for j in range(cm.shape[0])))
            ax.set_xticks(range(cm.shape[1]), names, fontsize=7)
            ax.set_yticks(range(cm.shape[0]), names, fontsize=7)
            ax.set(title=m, xlabel="predicted")
        axes[0][0].set_ylabel("true")
    return fig


def zoom_figure(
    x: np.ndarray, price: np.ndarray, positions: pd.DataFrame, returns: pd.DataFrame, marks: pd.DataFrame | None = None
) -> Any:
    """A window of the price (top), each column's position on its own lane (middle), cumulative net return (bottom).

    Lane ``k`` is drawn at ``k + 0.4 * position``: its centre line is flat, above it long, below it short. ``marks``
    (columns ``name``, ``row``, ``kind`` "entry" or "exit", ``side`` +1 long or -1 short; rows of the window) puts
    each trade's entry (a triangle pointing up for a long, down for a short) and exit (a cross) on the price, in
    its column's colour.
    """
    with style():
        fig, axes = _figure(3, 1, (9.0, 4.0 + 0.45 * len(positions.columns) + 2.5))
        axes[0][0].plot(x, price, color="black", lw=0.9, zorder=2)
        axes[0][0].set(ylabel="price", title=f"zoomed window: {len(x)} rows")
        names = list(positions.columns)
        for k, col in enumerate(names):
            lane = len(names) - 1 - k
            style_k = _color(col, k)
            axes[1][0].step(x, lane + 0.4 * positions[col].to_numpy(), where="post", lw=0.8, **style_k)
            axes[1][0].axhline(lane, color="grey", lw=0.4)
            axes[2][0].plot(x, np.cumsum(returns[col].fillna(0.0).to_numpy()), label=col, **style_k)
            if marks is not None:
                _trade_marks(axes[0][0], x, price, marks[marks["name"] == col], style_k["color"])
        axes[1][0].set_yticks(range(len(names)), names[::-1], fontsize=7)
        axes[1][0].set(ylabel="position (long above the lane, short below)")
        axes[1][0].grid(False)
        axes[2][0].set(ylabel="cumulative net return")
        for ax in axes[:, 0]:
            _date_ticks(ax, x)
        _legend_outside(axes[2][0])
    return fig


#: The marker of each (kind, side) of a trade mark on the zoomed price.
_MARKERS = {("entry", 1): "^", ("entry", -1): "v", ("exit", 1): "x", ("exit", -1): "x"}


def _trade_marks(ax: Any, x: np.ndarray, price: np.ndarray, marks: pd.DataFrame, color: str) -> None:
    for (kind, side), group in marks.groupby(["kind", "side"]):
        rows = group["row"].to_numpy(dtype=int)
        marker = _MARKERS[(kind, int(side))]
        ax.scatter(x[rows], price[rows], marker=marker, s=16, color=color, alpha=0.7, zorder=1, lw=0.8)
