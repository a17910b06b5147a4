"""chart-ship.png: three panels side by side, a bar pair per backend: build s, artifact MB, import ms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DARK, LIGHT, NOISE = "#2a6fb0", "#9cc3e6", "#c0392b"
PANELS = (  # title, (key, label) drawn dark, (key, label) drawn light, scale
    ("build (s)", ("build_cold_s", "cold"), ("build_incremental_s", "incremental"), 1.0),
    ("artifact (MB)", ("artifact_bytes", "as built"), ("stripped_bytes", "stripped"), 1e-6),
    ("import (ms)", ("import_module_ms", "module alone"), ("import_ms", "via factlab.load"), 1.0),
)


def _panels(fig: Any, rows: list[dict[str, Any]]) -> None:
    axes = fig.subplots(1, 3, sharey=True)
    ys = range(len(rows))
    for ax, (title, first, second, scale) in zip(axes, PANELS, strict=True):
        for dy, (key, label), color in ((-0.2, first, DARK), (0.2, second, LIGHT)):
            values = [(r.get(key) or 0) * scale for r in rows]
            ax.barh([y + dy for y in ys], values, height=0.4, color=color, label=label)
        ax.set_title(title, loc="left", fontsize=15)
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=11, frameon=False, loc="lower right")
    axes[0].set_yticks(list(ys), [r["backend"] for r in rows], fontsize=12)
    axes[0].invert_yaxis()


def draw(doc: dict[str, Any], path: Path) -> None:
    """The chart of one ship run (its results document) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(16, 9))
    try:
        _panels(fig, [r for r in doc["rows"] if r["status"] == "ok"])
        fig.suptitle(
            "What it costs to build, ship and import (lower is cheaper)", x=0.01, ha="left", fontsize=20
        )
        m = doc.get("machine", {})
        quick = "  ·  QUICK RUN: incremental builds only" if doc["mode"] == "quick" else ""
        text = f"`python -m factlab ship`, {doc['mode']} mode, {doc['created']}{quick}  ·  "
        text += f"{m.get('interpreter', '')}, {m.get('platform', '')}, {m.get('rustc', '')}"
        fig.text(0.01, 0.01, text, fontsize=11, color=NOISE if quick else "#555555")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
