"""chart.png: the article and crossing scenarios as horizontal bars (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BASELINES = ("python", "math")
NATIVE = "#2a6fb0"
NATIVE_LIGHT = "#9cc3e6"
BASELINE = "#8a8a8a"
BASELINE_LIGHT = "#cfcfcf"
WRONG = "#c0392b"
X = "\N{MULTIPLICATION SIGN}"


def _label(value: float) -> str:
    return f"{value:,.0f} ns" if value >= 100 else f"{value:.3g} ns"


def _article_panel(ax: Any, result: dict[str, Any]) -> None:
    rows = sorted((r for r in result["rows"] if "ns_per_call" in r), key=lambda r: -r["ns_per_call"])
    names = [r["backend"] for r in rows]
    values = [r["ns_per_call"] for r in rows]
    errors = [r["stdev_ns"] for r in rows]
    colors = [
        WRONG if r.get("exact") is False else (BASELINE if r["backend"] in BASELINES else NATIVE)
        for r in rows
    ]
    ax.barh(names, values, xerr=errors, color=colors, ecolor="#333333", capsize=2)
    log = bool(values) and max(values) / min(values) > 10
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator

        ax.set_xscale("log")
        ax.set_xlim(min(values) / 1.5, max(values) * 4)
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda _x, _pos: ""))
    else:
        ax.set_xlim(0, max(values or [1]) * 1.3)
    for y, (v, err, row) in enumerate(zip(values, errors, rows, strict=True)):
        text = _label(v)
        if row.get("speedup_vs_python"):
            text += f"  ({row['speedup_vs_python']:.1f}{X} pure Python)"
        end = v + err
        ax.text(end * 1.06 if log else end + max(values) * 0.01, y, text, va="center", fontsize=8)
    ax.set_title(f"factorial({result['n']}): ns per call (lower is faster)", loc="left", fontsize=10)
    ax.set_xlabel("ns per call" + (" (log scale)" if log else ""))
    ax.grid(axis="x", alpha=0.3)


def _crossing_panel(ax: Any, result: dict[str, Any]) -> None:
    rows = [r for r in result["rows"] if "crossing_ns" in r]
    rows.sort(key=lambda r: -(r.get("factorial_ns") or r["crossing_ns"]))
    names = [r["backend"] for r in rows]
    cross = [r["crossing_ns"] for r in rows]
    extra = [max(r.get("exactness_ns") or 0.0, 0.0) for r in rows]
    dark = [BASELINE if n in BASELINES else NATIVE for n in names]
    light = [BASELINE_LIGHT if n in BASELINES else NATIVE_LIGHT for n in names]
    ax.barh(names, cross, color=dark, label="crossing(25): the bare call")
    ax.barh(names, extra, left=cross, color=light, label="+ exactness: checks, u128 → Python int")
    top = max((c + e for c, e in zip(cross, extra, strict=True)), default=1.0)
    for y, (c, e) in enumerate(zip(cross, extra, strict=True)):
        text = _label(c) + (f" + {_label(e)}" if e else "")
        ax.text(c + e + top * 0.01, y, text, va="center", fontsize=8)
    ax.set_xlim(0, top * 1.45)
    ax.set_title("crossing(25) and the cost of exactness: ns per call", loc="left", fontsize=10)
    ax.set_xlabel("ns per call (linear)")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)


def draw(scenarios: dict[str, Any], machine_line: str, path: Path) -> Path | None:
    """Write the chart; None when neither scenario has a figure to draw."""
    panels = [
        name
        for name in ("article", "crossing")
        if name in scenarios
        and any("ns_per_call" in r or "crossing_ns" in r for r in scenarios[name]["rows"])
    ]
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heights = [max(len(scenarios[p]["rows"]), 2) * 0.38 + 1.0 for p in panels]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(10, sum(heights) + 0.8),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, name in zip(axes[:, 0], panels, strict=True):
        (_article_panel if name == "article" else _crossing_panel)(ax, scenarios[name])
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(
        f"factlab: one exact factorial, ten ways to call it from Python\n{machine_line}",
        fontsize=11,
        x=0.01,
        ha="left",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
