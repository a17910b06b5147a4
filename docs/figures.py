"""Write the book's measured figures from the committed benchmark results.

The chapters never type a timing by hand. They include named pieces of
``src/bench/figures.md``, which this script writes from
``src/bench/results.json`` (the copy of ``target/bench/results.json`` that
``just docs-bench`` takes after a ``just bench``):

- ``{{#include ../bench/figures.md:pyo3}}``: one backend's table;
- ``{{#include ../bench/figures.md:pyo3-f25}}``: one figure, inside a sentence;
- ``article``, ``measured``, ``machine``, ...: the tables the chapters share.

So the figures of every chapter come from the same run as the chart and the
summary tables beside them. ``just docs`` runs this before ``mdbook build``;
it needs only the standard library. A figure a chapter expects but the run
lacks (a backend that failed or was not built) stops the build.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "src" / "bench" / "results.json"
FIGURES = HERE / "src" / "bench" / "figures.md"

# Every backend of the registry, in its order; the book has a chapter for each.
BACKENDS = (
    "python",
    "math",
    "pyo3",
    "capi",
    "rust-cpython",
    "cffi-abi-inline",
    "cffi-abi-outofline",
    "cffi-api",
    "ctypes",
    "cython",
)
NATIVE = BACKENDS[2:]
BIG_N = 100_000
X = "\N{MULTIPLICATION SIGN}"


class MissingFigure(Exception):
    """The results lack a figure the book shows."""


def ns(seconds: float) -> str:
    """A per-call time in nanoseconds, three significant digits: 59.6 ns, 1,460 ns."""
    value = seconds * 1e9
    return f"{value:,.0f} ns" if value >= 100 else f"{value:.3g} ns"


def duration(seconds: float) -> str:
    """A longer time with the unit a reader takes in at once: 8.02 ms, 3.53 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return ns(seconds)


def ratio(value: float) -> str:
    return f"{value:,.0f}{X}" if value >= 100 else f"{value:.2g}{X}"


class Results:
    """Lookups into one results.json, failing loudly on a missing figure."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.scenarios: dict[str, Any] = data["scenarios"]

    def row(self, scenario: str, backend: str, n: int | None = None) -> dict[str, Any]:
        for row in self.scenarios.get(scenario, {}).get("rows", []):
            if row["backend"] == backend and (n is None or row.get("n") == n):
                if row.get("status") != "ok":
                    raise MissingFigure(f"{scenario}/{backend} n={n}: {row.get('status')}: {row.get('note')}")
                return dict(row)
        raise MissingFigure(f"{scenario}/{backend} n={n}: not in the results")

    def factorial25(self, backend: str) -> float:
        return float(self.row("article", backend)["timings"]["factorial"]["mean"])

    def crossing25(self, backend: str) -> float:
        return float(self.row("crossing", backend)["timings"]["crossing"]["mean"])

    def sweep(self, backend: str, n: int) -> float:
        return float(self.row("sweep", backend, n)["timings"]["factorial"]["mean"])

    def big(self, backend: str, n: int) -> float:
        return float(self.row("big", backend, n)["seconds"])

    def threads(self, backend: str) -> dict[str, Any]:
        return self.row("threads", backend)

    @property
    def threads_n(self) -> int:
        return int(self.scenarios["threads"]["n"])


def machine_line(data: dict[str, Any]) -> str:
    m = data["machine"]
    rustc = " ".join((m.get("rustc") or "rustc ?").split()[:2])
    day = str(data["created"])[:10]
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['implementation']} {m['python']}, {rustc}; "
        f"`just bench`, {data['mode']['name']} mode, {day}"
    )


def gil_words(row: dict[str, Any]) -> str:
    share = min(float(row["gil_share"]), 1.0)
    if row["releases_gil"] == "yes":
        return f"{share:.0%} of its solo speed: the GIL is released"
    return f"{share:.0%}: the GIL is held for the whole call"


def backend_table(r: Results, b: str) -> list[str]:
    """The per-call figures of one backend, for its chapter."""
    lines = ["| on the reference machine | time |", "|:---|---:|"]
    stdev = float(r.row("article", b)["stdev_ns"])
    spread = f"{stdev:,.0f}" if stdev >= 10 else f"{stdev:.2g}"
    lines.append(f"| `factorial(25)`, the seed article's call | {ns(r.factorial25(b))} ± {spread} ns |")
    if b in NATIVE:
        lines.append(f"| `crossing(25)`, the bare call (wrong past 20!, by design) | {ns(r.crossing25(b))} |")
    lines.append(f"| `factorial(0)` | {ns(r.sweep(b, 0))} |")
    lines.append(f"| `factorial(35)`, the first big integer | {ns(r.sweep(b, 35))} |")
    lines.append(f"| `factorial(1000)` | {duration(r.sweep(b, 1000))} |")
    lines.append(f"| `factorial({BIG_N:,})` | {duration(r.big(b, BIG_N))} |")
    if b == "python":
        lines.append("| another thread during a long call | takes turns: bytecode holds the GIL |")
    else:
        t = r.threads(b)
        during = f"`factorial({r.threads_n:,})`"
        lines.append(f"| another thread running Python during {during} | {gil_words(t)} |")
    return lines


def article_table(r: Results, data: dict[str, Any]) -> list[str]:
    fig = data["scenarios"]["article"]["article_figures"]
    calls = int(fig["calls"])
    py = r.factorial25("python")
    lines = [
        f"| {calls:,} {X} `factorial(25)` | time | speed-up over the pure-Python loop | 25! exact |",
        "|:---|---:|---:|:---|",
        f"| the article: its pure-Python loop | {fig['pure_python_seconds']:.2f} s | 1{X} "
        "| yes (but 0! gave 0) |",
        f"| the article: its CFFI function | {fig['cffi_seconds']:.2f} s | "
        f"{fig['claimed_speedup']}{X} | **no**: a 64-bit overflow |",
    ]
    for b in BACKENDS:
        mean = r.factorial25(b)
        exact = "yes" if r.row("article", b).get("exact") else "**NO**"
        lines.append(f"| factlab `{b}` | {mean * calls:.3f} s | {ratio(py / mean)} | {exact} |")
    return lines


def measured_table(r: Results) -> list[str]:
    """The decision chapter's measured columns, one row per backend."""
    lines = [
        f"| backend | `factorial(25)` | bare `crossing(25)` | `factorial({BIG_N:,})` "
        "| GIL during a long call |",
        "|:---|---:|---:|---:|:---|",
    ]
    for b in BACKENDS:
        cross = ns(r.crossing25(b)) if b in NATIVE else "—"
        if b == "python":
            gil = "held (bytecode)"
        else:
            t = r.threads(b)
            gil = "released" if t["releases_gil"] == "yes" else "held"
        lines.append(
            f"| [{b}](backends/{b}.md) | {ns(r.factorial25(b))} | {cross} | "
            f"{duration(r.big(b, BIG_N))} | {gil} |"
        )
    return lines


def threads_table(r: Results) -> list[str]:
    """The GIL chapter's measurements: one long call, and a second thread beside it."""
    n = f"{r.threads_n:,}"
    lines = [
        f"| backend | one `factorial({n})` | two at once, in two threads | speed-up 2·t1/t2 "
        "| another thread ran Python at | so the GIL is |",
        "|:---|---:|---:|---:|---:|:---|",
    ]
    for b in BACKENDS[1:]:
        t = r.threads(b)
        verdict = "released" if t["releases_gil"] == "yes" else "held"
        lines.append(
            f"| {b} | {duration(float(t['t1']))} | {duration(float(t['t2']))} | {ratio(float(t['speedup']))} "
            f"| {min(float(t['gil_share']), 1.0):.0%} | {verdict} |"
        )
    load = r.scenarios["threads"].get("load_average")
    lines.append("")
    lines.append(
        f"Two usable cores; the machine's load average was {load:.1f} when the threads scenario started "
        "(other work shares the cores, which lowers the speed-up, not the verdict)."
        if load is not None
        else "Two usable cores."
    )
    return lines


def inline_figures(r: Results) -> dict[str, str]:
    """One-value anchors, for figures quoted inside a sentence."""
    out: dict[str, str] = {"threads-n": f"{r.threads_n:,}"}
    py = r.factorial25("python")
    for b in BACKENDS:
        f25 = r.factorial25(b)
        out[f"{b}-f25"] = ns(f25)
        out[f"{b}-million"] = f"{f25 * 1e6:.3f} s"
        out[f"{b}-speedup"] = ratio(py / f25)
        out[f"{b}-f0"] = ns(r.sweep(b, 0))
        out[f"{b}-f35"] = ns(r.sweep(b, 35))
        out[f"{b}-big"] = duration(r.big(b, BIG_N))
        if b in NATIVE:
            x25 = r.crossing25(b)
            out[f"{b}-x25"] = ns(x25)
            out[f"{b}-ratio"] = ratio(f25 / x25)
            out[f"{b}-extra"] = ns(f25 - x25)
            out[f"{b}-x25-million"] = f"{x25 * 1e6:.3f} s"
        if b != "python":
            out[f"{b}-share"] = f"{min(float(r.threads(b)['gil_share']), 1.0):.0%}"
    return out


def targets_table(data: dict[str, Any]) -> list[str]:
    """The speed targets as `just bench` judged them (factlab.bench.targets)."""
    lines = ["| target | backend | measured | required | met |", "|:---|:---|---:|---:|:---:|"]
    for t in data["targets"]:
        # Three digits: a 1.22x against a 1.2x bound must not read "1.2x, no".
        measured = "not measured" if t["measured"] is None else f"{t['measured']:.3g}{X}"
        met = "—" if t["met"] is None else ("yes" if t["met"] else "**no**")
        required = f"{t['comparison']} {ratio(t['required'])}"
        lines.append(f"| {t['target']} | {t['backend']} | {measured} | {required} | {met} |")
    return lines


def anchored(name: str, lines: list[str]) -> list[str]:
    return [f"<!-- ANCHOR: {name} -->", *lines, f"<!-- ANCHOR_END: {name} -->", ""]


def render(data: dict[str, Any]) -> str:
    r = Results(data)
    parts: list[str] = [
        "<!-- Generated by docs/figures.py from docs/src/bench/results.json: do not edit. -->",
        "<!-- Chapters include its pieces by anchor; `just docs` rewrites it. -->",
        "",
    ]
    parts += anchored("machine", [machine_line(data)])
    parts += anchored("article", article_table(r, data))
    parts += anchored("measured", measured_table(r))
    parts += anchored("threads", threads_table(r))
    parts += anchored("targets", targets_table(data))
    for b in BACKENDS:
        parts += anchored(b, backend_table(r, b))
    for name, value in inline_figures(r).items():
        parts += anchored(name, [value])
    return "\n".join(parts)


def problem(text: str) -> None:
    print(f"docs/figures.py: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problem(f"cannot read {args.results}: {exc} (run `just bench`, then `just docs-bench`)")
        return 1
    try:
        text = render(data)
    except (MissingFigure, KeyError) as exc:
        problem(f"{args.results} lacks a figure the book shows: {exc}")
        return 1
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
