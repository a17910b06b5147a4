"""Turning results into tables: rich in the terminal, Markdown for the docs, and comparisons.

Each scenario becomes one or more :class:`Table` (headers, string cells, a
style per row, notes); the same tables are rendered by rich and as Markdown,
so the terminal and ``summary.md`` never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factlab.bench.scenarios import ARTICLE_FIGURES, GMPY2, SCENARIOS, fmt_seconds

FORMAT = "factlab-bench/1"
X = "\N{MULTIPLICATION SIGN}"  # for ratios: 14x


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)  # one rich style per row ("" for none)
    notes: list[str] = field(default_factory=list)
    left: int = 1  # how many leading columns hold names (left-aligned); figures are right-aligned

    def add(self, cells: list[str], style: str = "") -> None:
        self.rows.append(cells)
        self.styles.append(style)


# -- cell formats ---------------------------------------------------------------


def ns(value: float | None, stdev: float | None = None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    if stdev is not None:
        sd = f"{stdev:,.0f}" if stdev >= 10 else f"{stdev:.2g}"
        text += f" ± {sd}"
    return text


def times(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}{X}" if value >= 100 else f"{value:.3g}{X}"


def yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "NO")


def _backend(row: dict[str, Any]) -> str:
    return "gmpy2 (GMP, reference)" if row["backend"] == GMPY2 else row["backend"]


def _style(row: dict[str, Any]) -> str:
    if row["status"] == "skipped":
        return "dim"
    if row["status"] in ("failed", "wrong") or row.get("exact") is False:
        return "bold red"
    if row["backend"] in ("python", "math", GMPY2):
        return "italic"
    return ""


def _problem(row: dict[str, Any], width: int) -> list[str]:
    """Cells of a row that has no figures: its note, then blanks."""
    status = {"failed": "FAILED: ", "wrong": "WRONG VALUE: "}.get(row["status"], "")
    return [status + str(row.get("note", "")), *([""] * (width - 1))]


# -- the scenarios as tables ----------------------------------------------------


def article_table(result: dict[str, Any]) -> Table:
    calls = result["calls"]
    t = Table(
        f"{result['title']}",
        [
            "backend",
            "ns per call",
            f"{calls:,} calls",
            "speed-up over pure Python",
            "time ÷ math.factorial's",
            "exact 25!",
        ],
    )
    for row in result["rows"]:
        if row["status"] != "ok":
            t.add([row["backend"], *_problem(row, 5)], _style(row))
            continue
        t.add(
            [
                row["backend"],
                ns(row["ns_per_call"], row["stdev_ns"]),
                f"{row['seconds_per_million']:.3f} s",
                times(row.get("speedup_vs_python")),
                times(row.get("ratio_to_math")),
                yes_no(row.get("exact")),
            ],
            _style(row),
        )
    fig = result.get("article_figures", ARTICLE_FIGURES)
    py, cffi = fig["pure_python_seconds"], fig["cffi_seconds"]
    t.add(["the article: pure Python", "—", f"{py:.2f} s", f"1{X}", "—", "yes (but its 0! was 0)"], "cyan")
    t.add(
        [
            "the article: CFFI",
            "—",
            f"{cffi:.2f} s",
            f"{fig['claimed_speedup']}{X} (as claimed)",
            "—",
            "NO (a C long overflows at 21!)",
        ],
        "cyan",
    )
    t.notes.append(
        "Mean ± std dev over pyperf's worker processes, per call, loop included "
        "(the loop of `python -m timeit`)."
    )
    t.notes.append(
        "The article's rows are its own figures, on its own machine: compare ratios, not "
        "seconds. Of its results: " + "; ".join(fig["notes"]) + "."
    )
    return t


def crossing_table(result: dict[str, Any]) -> Table:
    t = Table(
        result["title"],
        ["backend", "crossing(25) ns", "factorial(25) ns", "cost of exactness ns", "factorial ÷ crossing"],
    )
    for row in result["rows"]:
        if "crossing_ns" not in row:
            t.add([row["backend"], *_problem(row, 4)], _style(row))
            continue
        t.add(
            [
                row["backend"],
                ns(row["crossing_ns"], row["crossing_stdev_ns"]),
                ns(row.get("factorial_ns")),
                ns(row.get("exactness_ns")),
                times(row.get("exactness_ratio")),
            ],
            _style(row),
        )
    t.notes.append(
        "crossing(n) is each binding's bare entry point: u64 in, u64 out, no argument "
        "checks, no big int (it returns 0 past 20!). math's crossing is math.factorial "
        "itself, so its cost of exactness is 0 by definition."
    )
    return t


def sweep_table(result: dict[str, Any]) -> Table:
    ns_list: list[int] = result["ns"]
    t = Table(result["title"] + " (ns per call)", ["backend", *[f"n={n:,}" for n in ns_list]])
    cells: dict[str, dict[int, str]] = {}
    order: list[str] = []
    problems: dict[str, dict[str, Any]] = {}
    for row in result["rows"]:
        b = row["backend"]
        if b not in order:
            order.append(b)
            cells[b] = {}
        if "n" not in row or row["status"] == "skipped":
            problems[b] = row
            continue
        if row["status"] != "ok":
            cells[b][row["n"]] = "FAILED" if row["status"] == "failed" else "WRONG"
            t.notes.append(f"{b} n={row['n']}: {row.get('note', '')}")
        elif row.get("exact") is False:
            cells[b][row["n"]] = ns(row["ns_per_call"]) + " WRONG"
        else:
            cells[b][row["n"]] = ns(row["ns_per_call"])
    for b in order:
        if b in problems:
            t.add([b, *_problem(problems[b], len(ns_list))], _style(problems[b]))
        else:
            style = "italic" if b in ("python", "math") else ""
            if any("WRONG" in c or "FAILED" in c for c in cells[b].values()):
                style = "bold red"
            t.add([b, *[cells[b].get(n, "—") for n in ns_list]], style)
    t.notes.append("0..20: the u64 table; 21..34: u128; 35 on: a big integer from limbs.")
    return t


def big_table(result: dict[str, Any]) -> Table:
    ns_list: list[int] = result["ns"]
    headers = ["backend"]
    for n in ns_list:
        headers += [f"n={n:,}", "speed-up over math"]
    t = Table(result["title"], headers)
    by: dict[str, dict[int, dict[str, Any]]] = {}
    order: list[str] = []
    whole: dict[str, dict[str, Any]] = {}
    for row in result["rows"]:
        b = row["backend"]
        if b not in order:
            order.append(b)
            by[b] = {}
        if "n" not in row:
            whole[b] = row
        else:
            by[b][row["n"]] = row
    for b in order:
        if b in whole:
            t.add([b, *_problem(whole[b], 2 * len(ns_list))], _style(whole[b]))
            continue
        cells = [_backend({"backend": b})]
        style = "italic" if b in ("python", "math", GMPY2) else ""
        for n in ns_list:
            row = by[b].get(n)
            if row is None:
                cells += ["—", "—"]
            elif row["status"] == "ok":
                cells += [fmt_seconds(row["seconds"]), times(row.get("speedup_vs_math"))]
            else:
                cells += ["skipped" if row["status"] == "skipped" else row["status"].upper(), ""]
                t.notes.append(f"{b} n={n:,}: {row.get('note', '')}")
                if row["status"] != "skipped":
                    style = "bold red"
        t.add(cells, style)
    refs = ", ".join(f"n={int(n):,}: {src}" for n, src in result.get("references", {}).items())
    if refs:
        t.notes.append(f"Every timed value was checked against an independent reference ({refs}).")
    t.notes.append("gmpy2's row is gmpy2.fac(n) converted with int(): GMP, for scale.")
    return t


def threads_table(result: dict[str, Any]) -> Table:
    n = result["n"]
    t = Table(
        f"{result['title']} (n={n:,})",
        [
            "backend",
            "t1: one call, one thread",
            "t2: two calls, two threads",
            "speed-up 2·t1/t2",
            "other thread ran",
            "releases the GIL",
        ],
    )
    for row in result["rows"]:
        if row["status"] != "ok":
            t.add([row["backend"], *_problem(row, 5)], _style(row))
            continue
        t.add(
            [
                row["backend"],
                fmt_seconds(row["t1"]),
                fmt_seconds(row["t2"]),
                times(row["speedup"]),
                f"{min(row['gil_share'], 1.0):.0%}",
                row["releases_gil"],
            ],
            _style(row),
        )
    load = result.get("load_average")
    busy = f"; load average {load:.1f} when it started" if load is not None else ""
    t.notes.append(
        f"Speed-up: ≈2{X} when both calls ran at once, ≈1{X} when they took turns; it needs two idle "
        f"cores ({result.get('usable_cores')} usable here{busy})."
    )
    t.notes.append(
        "'Other thread ran': how fast a second thread ran Python while the first was inside the "
        "call, against its speed alone. 0% means the call held the GIL; this does not depend on "
        "idle cores, so it decides 'releases the GIL'."
    )
    return t


def scenario_tables(name: str, result: dict[str, Any]) -> list[Table]:
    return {
        "article": lambda: [article_table(result)],
        "crossing": lambda: [crossing_table(result)],
        "sweep": lambda: [sweep_table(result)],
        "big": lambda: [big_table(result)],
        "threads": lambda: [threads_table(result)],
    }[name]()


def targets_table(targets: list[dict[str, Any]]) -> Table:
    """The speed targets (factlab.bench.targets) this run measured, against what they require."""
    table = Table(
        "Speed targets: each a ratio within this run",
        ["target", "backend", "measured", "required", "met"],
        left=2,
    )
    measured = [t for t in targets if t["met"] is not None]
    for t in measured:
        required = f"{t['comparison']} {times(t['required'])}"
        table.add(
            [t["target"], t["backend"], times(t["measured"]), required, "yes" if t["met"] else "NO"],
            "" if t["met"] else "bold red",
        )
    met = sum(1 for t in measured if t["met"])
    table.notes.append(f"{met} of {len(measured)} measured targets met; docs/src/targets.md says why.")
    if len(measured) < len(targets):
        missing = len(targets) - len(measured)
        table.notes.append(f"{missing} more not measured here (scenario not run or backend not built).")
    return table


# -- rendering ------------------------------------------------------------------


def to_rich(table: Table) -> Any:
    from rich.table import Table as RichTable

    rt = RichTable(
        title=table.title,
        title_justify="left",
        caption_justify="left",
        caption="\n".join(table.notes) or None,
    )
    for i, header in enumerate(table.headers):
        rt.add_column(header, justify="left" if i < table.left else "right", overflow="fold")
    for cells, style in zip(table.rows, table.styles, strict=True):
        rt.add_row(*cells, style=style or None)
    return rt


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(table: Table, level: int = 3) -> str:
    lines = [f"{'#' * level} {table.title}", ""]
    lines.append("| " + " | ".join(_md_escape(h) for h in table.headers) + " |")
    lines.append("|" + "|".join([":---"] * table.left + ["---:"] * (len(table.headers) - table.left)) + "|")
    for cells in table.rows:
        lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    lines.append("")
    for note in table.notes:
        lines.append(f"- {note}")
    if table.notes:
        lines.append("")
    return "\n".join(lines)


def summary_markdown(data: dict[str, Any], chart_name: str | None) -> str:
    """summary.md: what the docs include: machine, settings, every table, the chart."""
    m = data["machine"]
    pk = m["packages"]
    git = m.get("git") or {}
    commit = git.get("commit", "unknown")[:12] + (" (with local changes)" if git.get("dirty") else "")
    out = [
        "## factlab benchmark results",
        "",
        f"Measured {data['created']} in `{data['mode']['name']}` mode "
        f"({data['wall_seconds']:.0f} s), factlab commit {commit}.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['os']}",
        f"- Python: {m['implementation']} {m['python']} ({m['python_compiler']})",
        f"- Rust: {m.get('rustc') or 'rustc not found'}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in pk.items() if v),
        "- Harness: pyperf, one manager process per figure with its own worker processes "
        "(calibrated loops, warm-ups, mean ± std dev).",
        "",
    ]
    if chart_name:
        out += [f"![factorial(25) and crossing(25) per backend]({chart_name})", ""]
    for name in SCENARIOS:
        if name in data["scenarios"]:
            for table in scenario_tables(name, data["scenarios"][name]):
                out.append(to_markdown(table))
    if data.get("targets"):
        out.append(to_markdown(targets_table(data["targets"])))
    return "\n".join(out).rstrip() + "\n"


# -- comparing two runs -------------------------------------------------------------


def load_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read benchmark results from {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SystemExit(f"{path} is not a factlab benchmark result ({FORMAT})")
    return data


def _measurements(data: dict[str, Any]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """(scenario, backend, n, timing) -> timing, for every ok row of a result file."""
    out: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for scenario in SCENARIOS:
        for row in data.get("scenarios", {}).get(scenario, {}).get("rows", []):
            if row.get("status") != "ok":
                continue
            n = "" if row.get("n") is None else f"{row['n']:,}"
            for label, timing in row.get("timings", {}).items():
                out[(scenario, row["backend"], n, label)] = timing
    return out


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per figure present in both runs: old and new mean, and the change."""
    a, b = _measurements(old), _measurements(new)
    changes = []
    for key in b:
        if key not in a:
            continue
        t_old, t_new = a[key], b[key]
        m_old, m_new = float(t_old["mean"]), float(t_new["mean"])
        noise = float(t_old.get("stdev", 0.0)) + float(t_new.get("stdev", 0.0))
        scenario, backend, n, label = key
        changes.append(
            {
                "scenario": scenario,
                "backend": backend,
                "n": n,
                "what": label,
                "old": m_old,
                "new": m_new,
                "percent": (m_new - m_old) / m_old * 100.0,
                "speedup": m_old / m_new,
                "within_noise": abs(m_new - m_old) <= noise,
            }
        )
    return changes


def change_text(c: dict[str, Any]) -> str:
    if c["speedup"] >= 1:
        text = f"{(c['speedup'] - 1) * 100:.1f}% faster"
    else:
        text = f"{(1 / c['speedup'] - 1) * 100:.1f}% slower"
    return text + (" (within noise)" if c["within_noise"] else "")


def compare_table(changes: list[dict[str, Any]], old_name: str, new_name: str) -> Table:
    t = Table(
        f"Change from {old_name} to {new_name}",
        ["scenario", "backend", "figure", "n", "old", "new", "change"],
        left=3,
    )
    for c in changes:
        style = "dim" if c["within_noise"] else ("green" if c["speedup"] >= 1 else "red")
        t.add(
            [
                c["scenario"],
                c["backend"],
                c["what"],
                c["n"],
                fmt_seconds(c["old"]),
                fmt_seconds(c["new"]),
                change_text(c),
            ],
            style,
        )
    if not changes:
        t.notes.append("No figure in common: different scenarios or backends.")
    t.notes.append("Per call; 'within noise' when the difference is within the sum of the two std devs.")
    return t
