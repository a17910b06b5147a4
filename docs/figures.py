"""Write the book's measured figures from the committed benchmark results.

The chapters never type a timing by hand. They include named pieces of
``src/bench/figures.md``, which this script writes from
``src/bench/results.json`` (a complete, full `just bench` run, copied there
by ``just docs-bench``), and of ``src/ship/figures.md``, from
``src/ship/ship.json`` (a full `just ship` run, copied by ``just ship --publish latest``):

- ``{{#include ../bench/figures.md:pyo3}}``: one backend's table;
- ``{{#include ../bench/figures.md:pyo3-f25}}``: one figure, inside a sentence;
- ``article``, ``measured``, ``threads``, ``batch``, ``digits``, ``callback``,
  ``object``, ``targets``, ``machine``: the tables the chapters share, the same
  tables (and words) as the bench prints (``batch``, ``digits``, ``callback``
  and ``object`` say so when the committed run predates their scenarios).

The backends come from the registry and the formats and tables from
``factlab.bench.report`` and ``factlab.ship.report``, imported from the source
tree: this needs only the standard library. A figure a chapter expects but the
run lacks stops the build. A time marked † is within its spread of its
neighbour in rank (``report.within_spread``): the instructions column decides.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))

from factlab import PURE, _render, specs  # noqa: E402
from factlab._render import Table, anchored, seconds, times, to_markdown  # noqa: E402
from factlab.bench import report  # noqa: E402
from factlab.bench.results import Results  # noqa: E402
from factlab.bench.scenarios import ARTICLE_N  # noqa: E402
from factlab.ship import report as ship_report  # noqa: E402

RESULTS = HERE / "src" / "bench" / "results.json"
FIGURES = HERE / "src" / "bench" / "figures.md"
SHIP = HERE / "src" / "ship" / "ship.json"  # `just ship`, copied by `just ship --publish latest`
SHIP_FIGURES = HERE / "src" / "ship" / "figures.md"
BIG_N = 100_000
NEWER = ("batch", "digits", "callback", "object")  # what a run published before them lacks (issues 21-23)


class MissingFigure(Exception):
    """The results lack a figure the book shows."""


class Figures(Results):
    def need(self, scenario: str, backend: str, n: int | None = None, **match: Any) -> dict[str, Any]:
        row = self.row(scenario, backend, n, **match)
        if row is None or row["status"] != "ok":
            why = "not in the results" if row is None else row.get("note", row["status"])
            raise MissingFigure(f"{scenario}/{backend} n={n}: {why}")
        return row

    def t(self, scenario: str, backend: str, n: int | None = None, **match: Any) -> float:
        return float(self.need(scenario, backend, n, **match)["mean"])


def ns(value: float) -> str:
    return _render.ns(value) + " ns"


def machine_line(data: dict[str, Any]) -> str:
    m = data["machine"]
    rustc = " ".join(str(m.get("rustc")).split()[:2])
    return (
        f"{m['cpu_model_name']}, {m['cpu_count']} cores, {m['python_implementation']} "
        f"{m['python_version'].split()[0]}, {rustc}; "
        f"`just bench`, {data['mode']} mode, {data['created'][:10]}"
    )


def gil_words(row: dict[str, Any]) -> str:
    share = f"{min(float(row['gil_share']), 1.0):.0%}"
    if row["releases_gil"] == "yes":
        return f"{share} of its solo speed: the GIL is released"
    return f"{share}: the GIL is held for the whole call"


def backend_table(r: Figures, b: str, native: bool) -> list[str]:
    """The per-call figures of one backend, for its chapter."""
    row = r.need("article", b)
    lines = ["| on the reference machine | time |", "|:---|---:|"]
    lines.append(f"| `factorial(25)`, the seed article's call | {_render.ns(row['mean'], row['stdev'])} ns |")
    if native:
        lines.append(
            f"| `crossing(25)`, the bare call (wrong past 20!, by design) | {ns(r.t('crossing', b))} |"
        )
    lines.append(f"| `factorial(0)` | {ns(r.t('sweep', b, 0))} |")
    lines.append(f"| `factorial(35)`, the first big integer | {ns(r.t('sweep', b, 35))} |")
    lines.append(f"| `factorial(1000)` | {seconds(r.t('sweep', b, 1000))} |")
    lines.append(f"| `factorial({BIG_N:,})` | {seconds(r.t('sweep', b, BIG_N))} |")
    if b == PURE:
        lines.append("| another thread during a long call | takes turns: bytecode holds the GIL |")
    else:
        t = r.need("threads", b, threads=1)
        lines.append(f"| another thread running Python during `factorial({t['n']:,})` | {gil_words(t)} |")
    return lines


def measured_table(r: Figures, names: list[str], native: set[str]) -> list[str]:
    """The decision chapter's measured columns, one row per backend (instructions: where counted)."""
    counted = r.counted()
    lines = [
        f"| backend | `factorial(25)` | {'instructions per call | ' * counted}bare `crossing(25)` "
        f"| `factorial({BIG_N:,})` | GIL during a long call |",
        "|:---|---:|" + "---:|" * counted + "---:|---:|:---|",
    ]
    marked = report.within_spread({b: (r.t("article", b), r.need("article", b)["stdev"]) for b in names})
    for b in names:
        f25 = ns(r.t("article", b)) + (f" {report.SPREAD}" if b in marked else "")
        count = [report.count(r.instructions(b, ARTICLE_N))] * counted
        cross = ns(r.t("crossing", b)) if b in native else "—"
        gil = "held (bytecode)" if b == PURE else r.need("threads", b, threads=1)["releases_gil"]
        gil = {"yes": "released", "no": "held"}.get(gil, gil)
        big = seconds(r.t("sweep", b, BIG_N))
        lines.append(" | ".join([f"| [{b}](backends/{b}.md)", f25, *count, cross, big, gil]) + " |")
    return lines


def inline_figures(r: Figures, names: list[str], native: set[str]) -> dict[str, str]:
    """One-value anchors, for figures quoted inside a sentence."""
    py = r.t("article", PURE)
    out = {"threads-n": f"{next(row['n'] for row in r.rows('threads') if 'n' in row):,}"}
    for b in names:
        f25 = r.t("article", b)
        out |= {f"{b}-f25": ns(f25), f"{b}-million": f"{f25 * 1e6:.3f} s", f"{b}-speedup": times(py / f25)}
        out |= {f"{b}-f0": ns(r.t("sweep", b, 0)), f"{b}-f35": ns(r.t("sweep", b, 35))}
        out[f"{b}-big"] = seconds(r.t("sweep", b, BIG_N))
        if b in native:
            x25 = r.t("crossing", b)
            out |= {f"{b}-x25": ns(x25), f"{b}-ratio": times(x25 / f25), f"{b}-extra": ns(f25 - x25)}
            out[f"{b}-x25-million"] = f"{x25 * 1e6:.3f} s"
        if b != PURE:
            out[f"{b}-share"] = f"{min(float(r.need('threads', b, threads=1)['gil_share']), 1.0):.0%}"
    return out


def predates(scenario: str) -> str:
    return f"*The committed run predates the {scenario} scenario: `just bench`, then `just docs-bench`.*"


def table(t: Table) -> list[str]:
    return to_markdown(t).splitlines()[2:]  # the chapter gives the title


def render(data: dict[str, Any]) -> str:
    r = Figures(data)
    names = [s.name for s in specs()]
    native = {s.name for s in specs() if s.native}
    parts = [
        "<!-- Generated by docs/figures.py from docs/src/bench/results.json: do not edit. -->",
        "<!-- Chapters include its pieces by anchor; `just docs` rewrites it. -->",
        "",
    ]
    for b in names:
        r.need("article", b)  # every registered backend has a figure, or the book stops here
    parts += anchored("machine", [machine_line(data)])
    parts += anchored("article", table(report.article_table(r)))
    parts += anchored("measured", measured_table(r, names, native))
    parts += anchored("spread-note", [report.SPREAD_NOTE])
    parts += anchored("threads", table(report.threads_table(r)))
    for scenario in NEWER:
        present = r.rows(scenario)
        parts += anchored(scenario, table(report.TABLES[scenario](r)) if present else [predates(scenario)])
    parts += anchored("targets", table(report.targets_table(data["targets"])))
    for b in names:
        parts += anchored(b, backend_table(r, b, b in native))
    for name, value in inline_figures(r, names, native).items():
        parts += anchored(name, [value])
    return "\n".join(parts)


def ship_parts(doc: dict[str, Any]) -> list[str]:
    """The build-and-ship chapter's table, and one-value anchors (ship-pyo3-wheel, ...) for sentences."""
    rows = doc["rows"]
    size = ship_report.size
    parts = [
        "<!-- Generated by docs/figures.py from docs/src/ship/ship.json: do not edit. -->",
        "",
        *anchored("ship", table(ship_report.table(rows))),
        *anchored("ship-run", [f"`just ship`, {doc['mode']} mode, {doc['seconds']:.0f} s"]),
    ]
    for r in rows:
        key = "clib" if r["backend"].startswith("shared: the C ABI") else r["backend"]
        if r.get("shared") or r["status"] != "ok":
            if key == "clib":
                parts += anchored("ship-clib-a", [size(r["static_bytes"])])
                parts += anchored("ship-clib-a-stripped", [size(r["static_stripped_bytes"])])
            if r.get("build_cold_s") is not None and key == "clib":
                parts += anchored("ship-clib-cold", [f"{r['build_cold_s']:.0f} s"])
            elif r.get("build_cold_s") is not None:
                parts += anchored("ship-core-cold", [f"{r['build_cold_s']:.0f} s"])
            continue
        if r.get("build_cold_s") is not None:
            parts += anchored(f"ship-{key}-cold", [f"{r['build_cold_s']:.0f} s"])
            parts += anchored(f"ship-{key}-inc", [f"{r['build_incremental_s']:.0f} s"])
        parts += anchored(f"ship-{key}-import", [f"{r['import_ms']:.1f} ms"])
        parts += anchored(f"ship-{key}-import-alone", [f"{r['import_module_ms']:.1f} ms"])
        parts += anchored(
            f"ship-{key}-wheel", [f"{size(r['wheel_bytes'])} ({r['wheel_tags'] or 'no wheel'})"]
        )
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=FIGURES)
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.results.read_text(encoding="utf-8"))
        text = render(data)
        ship = args.results == RESULTS and SHIP.is_file()  # the book's own figures: ship's too
        shipped = "\n".join(ship_parts(json.loads(SHIP.read_text(encoding="utf-8")))) if ship else ""
    except (OSError, ValueError) as exc:
        print(
            f"docs/figures.py: cannot read {args.results}: {exc} (`just bench`, then `just docs-bench`)",
            file=sys.stderr,
        )
        return 1
    except (MissingFigure, KeyError, TypeError) as exc:
        print(f"docs/figures.py: {args.results} lacks a figure the book shows: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(text, encoding="utf-8")
    if shipped:
        SHIP_FIGURES.write_text(shipped, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
