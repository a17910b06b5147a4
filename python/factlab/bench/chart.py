"""The run's charts (matplotlib, Agg), 16:9 for a slide.

``chart.png``: factorial(25) per backend, bars on a linear axis (a bar's
length is its time; a log axis would make them lie), the bare crossing drawn
inside each bar, ± one std dev as error bars, the run's mode and date on it.
``chart-detail.png``: the time per call across n, lines on log-log axes.
Each is one function from the results to a file (:func:`slide`, :func:`detail`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factlab import PURE, STDLIB
from factlab.bench.results import Results
from factlab.bench.scenarios import GMPY2

DARK, LIGHT, GREY, NOISE = "#2a6fb0", "#9cc3e6", "#9a9a9a", "#c0392b"
X = "\N{MULTIPLICATION SIGN}"


def stamp(fig: Any, data: dict[str, Any], command: str = "just bench") -> None:
    m = data["machine"]
    quick = "  ·  QUICK RUN: rough figures" if data["mode"] == "quick" else ""
    text = f"`{command}`, {data['mode']} mode, {data['created']}{quick}  ·  {m.get('cpu_model_name')}, "
    text += f"{m.get('cpu_count')} cores, {m.get('python_implementation')} {m.get('python_version')}, "
    text += str(m.get("rustc"))
    fig.text(0.01, 0.01, text, fontsize=11, color=NOISE if quick else "#555555")


def _slide(ax: Any, res: Results) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    found = [(b, res.row("article", b)) for b in res.backends("article")]
    rows = sorted(((b, r) for b, r in found if r and r["status"] == "ok"), key=lambda p: p[1]["mean"])
    py = res.mean("article", PURE)
    top = max(r["mean"] + r["stdev"] for _, r in rows) * 1e9
    noisy = False
    for y, (b, r) in enumerate(rows):
        total, sd, cross = r["mean"] * 1e9, r["stdev"] * 1e9, res.mean("crossing", b)
        native = cross is not None and b != STDLIB
        ax.barh(y, total, color=LIGHT if native else GREY, height=0.7)
        if native:
            ax.barh(y, min(cross * 1e9, total), color=NOISE if cross * 1e9 >= total else DARK, height=0.7)  # type: ignore[operator]
        ax.errorbar(total, y, xerr=[[min(sd, total)], [sd]], fmt="none", ecolor="black", capsize=4, lw=1.2)
        label = f"{total:,.0f} ns" if total >= 100 else f"{total:.3g} ns"
        if py and b != PURE:
            label += f"  ·  {py / r['mean']:.3g}{X} faster than pure Python"
        if sd >= total or (native and cross * 1e9 >= total):  # type: ignore[operator]
            label, noisy = label + "  ⚠ noise ≥ figure", True
        ax.text(total + sd + top * 0.01, y, label, va="center", fontsize=13)
    ax.set_yticks(range(len(rows)), [b for b, _ in rows], fontsize=14)
    ax.invert_yaxis()  # the fastest on top
    ax.set_xlim(0, top * 1.55)
    ax.set_xlabel("ns per call (linear axis: a bar's length is its time)", fontsize=13)
    ax.grid(axis="x", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [
        Patch(color=DARK, label="the bare crossing(25): the mechanism alone"),
        Patch(color=LIGHT, label="+ checks and the exact Python int"),
        Patch(color=GREY, label="baseline: no native code of ours"),
        Line2D(
            [], [], color="black", marker="|", markersize=12, lw=1.2, label="± 1 std dev of pyperf's values"
        ),
    ]
    if noisy:
        handles.append(Patch(color=NOISE, label="⚠ noise larger than the figure: not a measurement"))
    ax.legend(handles=handles, loc="upper right", fontsize=12, frameon=False)


def _detail(ax: Any, res: Results) -> None:
    for b in res.backends("sweep"):
        rows = [r for r in res.rows("sweep") if r["backend"] == b and r["status"] == "ok" and r["n"] > 0]
        pts = sorted((r["n"], r["mean"] * 1e9) for r in rows if not r.get("strategy"))
        if pts:
            style = {"color": "black", "ls": "--", "lw": 2.5} if b == GMPY2 else {}
            label = "int(gmpy2.fac(n))" if b == GMPY2 else b
            ax.plot([n for n, _ in pts], [t for _, t in pts], marker="o", ms=4, label=label, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n (log scale)", fontsize=13)
    ax.set_ylabel("ns per call of factorial(n) (log scale)", fontsize=13)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=11, ncol=2, frameon=False)


def _figure(data: dict[str, Any], path: Path, panel: Any, title: str, shown: bool) -> None:
    """One 16:9 figure, ``panel`` drawn on it (or a word saying the run did not measure it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(16, 9))
    try:
        if shown:
            panel(ax, Results(data))
        else:
            ax.text(0.5, 0.5, "not measured in this run", ha="center", fontsize=20, transform=ax.transAxes)
        ax.set_title(title, loc="left", fontsize=20)
        stamp(fig, data)
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)


def slide(data: dict[str, Any], path: Path) -> None:
    """chart.png: factorial(25) per backend, the bare crossing inside each bar."""
    title = "factorial(25): one exact call, ns (lower is faster)"
    _figure(data, path, _slide, title, bool(Results(data).rows("article")))


def detail(data: dict[str, Any], path: Path) -> None:
    """chart-detail.png: the time per call across n, log-log."""
    title = "factorial(n) across n: where each representation changes"
    _figure(data, path, _detail, title, bool(Results(data).rows("sweep")))
