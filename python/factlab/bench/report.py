"""The run's tables, from its results: rich in the terminal, Markdown in ``summary.md``.

Every ratio reads one way, the way the targets read: "A is r x faster than
B", r = B's time / A's time (below 1x when A is slower).
"""

from __future__ import annotations

from typing import Any

from factlab import PURE, STDLIB
from factlab._cli import narrow
from factlab._render import Table, X, count, ns, seconds, times, to_markdown, why
from factlab.bench import report_control, report_object
from factlab.bench.report_shapes import batch_table, digits_table
from factlab.bench.results import Results
from factlab.bench.scenarios import ARTICLE_N, GMPY2, SCENARIOS, TITLES

ARTICLE = {"calls": 1_000_000, "python_s": 1.91, "cffi_s": 0.13, "speedup": 14}  # the seed article's figures


SPREAD = "†"  # marks a time whose std dev exceeds its gap to the next time in rank order
SPREAD_NOTE = (
    f"{SPREAD}: this time's std dev exceeds the gap to its neighbour in rank order, so the times alone "
    "do not rank the two; the instructions per call, which the machine's load does not move, do."
)


def within_spread(points: dict[str, tuple[float, float]]) -> set[str]:
    """The labels whose std dev exceeds the gap to a neighbour, ranked by mean ({label: (mean, stdev)})."""
    ranked = sorted(points.items(), key=lambda p: p[1][0])
    marked = set()
    for (a, (mean_a, sd_a)), (b, (mean_b, sd_b)) in zip(ranked, ranked[1:]):
        gap = mean_b - mean_a
        marked |= {a} if sd_a > gap else set()
        marked |= {b} if sd_b > gap else set()
    return marked


def _spread(res: Results, scenario: str, n: int | None = None) -> set[str]:
    ok = [r for r in res.rows(scenario) if r["status"] == "ok" and (n is None or r.get("n") == n)]
    return within_spread({_label(r): (r["mean"], r["stdev"]) for r in ok})


def _label(r: dict[str, Any]) -> str:
    """A row's name in a table: the backend, one of its strategies, or GMP's reference row."""
    if r.get("strategy"):
        return f"{r['backend']} [{r['strategy']}]"
    return "gmpy2 (GMP, reference)" if r["backend"] == GMPY2 else r["backend"]


INSTRUCTIONS = "instructions per call"


def article_table(res: Results) -> Table:
    faster = [f"{X} faster than pure Python", f"{X} faster than math"]
    counted = res.counted()
    headers = ["backend", "ns per call", "1,000,000 calls", *faster, *([INSTRUCTIONS] * counted)]
    t = Table(TITLES["article"], headers)
    py, m = res.mean("article", PURE), res.mean("article", STDLIB)
    marked = _spread(res, "article")
    for b in res.backends("article"):
        r, mean = res.row("article", b), res.mean("article", b)
        if mean is None:
            t.problem(b, r)
            continue
        time = ns(mean, r["stdev"]) + (f" {SPREAD}" if b in marked else "")  # type: ignore[index]
        speedups = [times(res.faster(mean, py)), times(res.faster(mean, m))]
        counts = [count(res.instructions(b, ARTICLE_N))] * counted
        t.rows.append([b, time, f"{mean * 1e6:.3f} s", *speedups, *counts])
    a = ARTICLE
    rest = ["—"] * counted
    t.rows.append(["the article: pure Python", "—", f"{a['python_s']:.2f} s", f"1{X}", "—", *rest])
    t.rows.append(["the article: CFFI, wrong", "—", f"{a['cffi_s']:.2f} s", f"{a['speedup']}{X}", "—", *rest])
    t.notes.append(
        "Mean ± std dev of pyperf's values, per call, loop included. Every timed loop's last value was "
        "compared with math.factorial(25): a wrong answer fails its row instead of giving a figure."
    )
    if counted:
        t.notes.append(
            "Instructions per call: callgrind's count of one call and its turn of the loop (the same "
            "on any x86-64 machine with the same builds), where the time depends on the machine's load."
        )
    if marked:
        t.notes.append(SPREAD_NOTE)
    t.notes.append(
        "The article's rows are its own figures on its own machine (compare ratios): its CFFI function "
        "returned a C long, which overflows at 21!, and its pure-Python loop gave 0! = 0."
    )
    return t


def crossing_table(res: Results) -> Table:
    counted = res.counted()
    t = Table(TITLES["crossing"], f"backend|crossing(25) ns|factorial(25) ns|cost of exactness ns|factorial "
              f"{X} faster than crossing".split("|") + ["crossing(25) instructions"] * counted)  # fmt: skip
    marked = _spread(res, "crossing")
    for b in res.backends("crossing"):
        cross, fact = res.mean("crossing", b), res.mean("article", b)
        if cross is None:
            t.problem(b, res.row("crossing", b))
            continue
        extra = None if fact is None else fact - cross
        noise = " (noise: crossing ≥ call)" if extra is not None and extra <= 0 else ""
        t.rows.append(
            [
                b,
                ns(cross, res.row("crossing", b)["stdev"]) + (f" {SPREAD}" if b in marked else ""),  # type: ignore[index]
                "—" if fact is None else ns(fact),
                "—" if extra is None else ns(extra) + noise,
                times(res.faster(fact, cross)),
                *[count(res.instructions(b, ARTICLE_N, "crossing"))] * counted,
            ]
        )
    t.notes.append(
        "crossing(n) is each binding's bare entry point: u64 in, u64 out, no checks, no big int (0 past 20!, "
        "by design). math's crossing is math.factorial itself. A cost of exactness at or below 0 is noise."
    )
    if marked:
        t.notes.append(SPREAD_NOTE)
    return t


def sweep_table(res: Results) -> Table:
    rows = res.rows("sweep")
    ns_list = sorted({r["n"] for r in rows if "n" in r})
    counted = sorted({r["n"] for r in res.rows("instructions") if r["status"] == "ok" and r["n"] in ns_list})
    headers = ["backend", *[f"n={n:,}" for n in ns_list], *[f"instructions n={n:,}" for n in counted]]
    t = Table(TITLES["sweep"] + " (ns per call)", headers)
    marked = {n: _spread(res, "sweep", n) for n in ns_list}
    for label in dict.fromkeys(_label(r) for r in rows):
        mine = [r for r in rows if _label(r) == label]
        whole = next((r for r in mine if "n" not in r), None)
        if whole:
            t.problem(label, whole)
            continue
        cells = {r["n"]: _cell(r, label in marked[r["n"]]) for r in mine}
        t.notes += [f"{r['name']}: {r.get('note', r['status'])}" for r in mine if r["status"] != "ok"]
        plain = not mine[0].get("strategy") and mine[0]["backend"] != GMPY2  # counted: the backends' own
        counts = [count(res.instructions(mine[0]["backend"], n)) if plain else "—" for n in counted]
        t.rows.append([label, *[cells.get(n, "—") for n in ns_list], *counts])
    t.notes.append(
        "0..20: the u64 table; 21..34: u128; 35 on: a big integer from limbs. gmpy2's row is "
        "int(gmpy2.fac(n)): GMP with its conversion to a Python int. [name]: one of the backend's "
        "allocation strategies."
    )
    if any(marked.values()):
        t.notes.append(SPREAD_NOTE)
    return t


def _cell(r: dict[str, Any], marked: bool) -> str:
    return (ns(r["mean"]) + (f" {SPREAD}" if marked else "")) if r["status"] == "ok" else r["status"]


def big_table(res: Results) -> Table:
    ns_list = sorted({r["n"] for r in res.rows("big") if "n" in r})
    headers = ["backend"]
    for n in ns_list:
        headers += [f"n={n:,}", f"{X} faster than math", f"{X} faster than gmpy2"]
    t = Table(TITLES["big"], headers)
    for b in res.backends("big"):
        cells = ["gmpy2 (GMP, reference)" if b == GMPY2 else b]
        for n in ns_list:
            mean, r = res.mean("big", b, n), res.row("big", b, n) or res.row("big", b)
            if mean is None:
                cells += [why(r), "", ""]
                continue
            cells += [
                seconds(mean),
                times(res.faster(mean, res.mean("big", STDLIB, n))),
                times(res.faster(mean, res.mean("big", GMPY2, n))),
            ]
        t.rows.append(cells)
    t.notes.append("Every timed value was checked against n! from GMP (or math.factorial without gmpy2).")
    return t


def threads_table(res: Results) -> Table:
    rows = res.rows("threads")
    n = next((r["n"] for r in rows if "n" in r), 0)
    t = Table(
        f"{TITLES['threads']} (n={n:,})",
        ["backend", "t1: one call", "t2: two calls, two threads", f"two threads {X} faster than in turns",
         "other thread ran", "releases the GIL", "idle cores"],
    )  # fmt: skip
    for b in res.backends("threads"):
        one, two = res.row("threads", b, threads=1), res.row("threads", b, threads=2)
        if one is None or two is None or one["status"] != "ok" or two["status"] != "ok":
            bad = next((r for r in (one, two) if r is not None and r["status"] != "ok"), None)
            t.problem(b, bad or res.row("threads", b))
            continue
        share = one["gil_share"]
        t.rows.append(
            [b, seconds(one["mean"]), seconds(two["mean"]), times(2 * one["mean"] / two["mean"]),
             f"{min(share, 1.0):.0%}", releases_gil(b, share), f"{two['idle_cores']:.1f}"]
        )  # fmt: skip
    t.notes.append(
        f"In turns is 2·t1: two threads reach 2{X} when both calls run at once, 1{X} when they take turns; "
        "that needs two idle cores ('idle cores': measured just before the two-thread timing)."
    )
    t.notes.append(
        "'Other thread ran': how fast a second thread ran Python while the first was inside the call, "
        "against its speed alone. 0% means the call held the GIL: it does not need idle cores, so it decides "
        "'releases the GIL'."
    )
    return t


def instructions_table(res: Results) -> Table:
    """Every count of the run in one table: a row per backend, a column per call counted."""
    rows = res.rows("instructions")
    calls = list(dict.fromkeys((r["call"], r["n"]) for r in rows if "n" in r))
    t = Table(TITLES["instructions"], ["backend", *[f"{call}({n:,})" for call, n in calls]])
    for b in res.backends("instructions"):
        whole = next((r for r in rows if r["backend"] == b and "n" not in r), None)
        if whole:
            t.problem(b, whole)
            continue
        mine = {(r["call"], r["n"]): r for r in rows if r["backend"] == b}
        t.rows.append([b, *[_counted(mine.get(key)) for key in calls]])
    t.notes.append(
        "Instructions of one call and its turn of the loop, counted by callgrind (two runs of K and 2K "
        "calls, start-up cancelled out): the same on any x86-64 machine with the same builds."
    )
    return t


def _counted(r: dict[str, Any] | None) -> str:
    if r is None:
        return "—"
    return count(r["instructions"]) if r["status"] == "ok" else why(r)


GIL_SHARE_THRESHOLD = 0.05  # a held GIL gives exactly 0; a released one > 0.1 even on a busy machine


def releases_gil(backend: str, share: float) -> str:
    if backend == PURE:
        return "no: bytecode takes turns"
    return "yes" if share >= GIL_SHARE_THRESHOLD else "no"


NOT_MEASURED = "not measured"  # a target's "why" when nothing else explains it; unjudged: no figures


def targets_table(targets: list[dict[str, Any]]) -> Table:
    t = Table(
        "Speed targets: each a ratio within this run",
        ["target", "backend", "measured", "required", "verdict"],
        left=2,
    )
    # A target whose figures this run did not take (a scenario or backend left out) is counted, not listed.
    listed = [g for g in targets if g["met"] is not None or g.get("why", NOT_MEASURED) != NOT_MEASURED]
    for g in listed:
        digits = (
            ".4g" if f"{g['measured'] or 0:.3g}" == f"{g['required']:.3g}" else ".3g"
        )  # 19.98x is not 20x
        measured = (
            "—"
            if g["measured"] is None
            else f"{g['measured']:{digits}}{X}" + (f" ({g['where']})" if g.get("where") else "")
        )
        verdict = {True: "met", False: "NOT MET", None: g.get("why", NOT_MEASURED)}[g["met"]]
        t.rows.append([g["target"], g["backend"], measured, f"≥ {g['required']:.3g}{X}", verdict])
    judged = [g for g in targets if g["met"] is not None]
    t.notes.append(
        f"{sum(g['met'] for g in judged)} of {len(judged)} judged targets met; docs/src/targets.md says "
        "why each exists and what stops the others. (n=...): the worst n of a target over several."
        + (f" {len(targets) - len(listed)} more need figures this run did not take (a default run takes "
           "them all)." if len(listed) < len(targets) else "")
    )  # fmt: skip
    return t


TABLES = {
    "article": article_table,
    "crossing": crossing_table,
    "sweep": sweep_table,
    "big": big_table,
    "threads": threads_table,
    "batch": batch_table,
    "digits": digits_table,
    "callback": report_control.callback_table,
    "object": report_object.object_table,
    "instructions": instructions_table,
}


# The columns a terminal shows (besides the first): what decides, in 100 columns; summary.md has all.
TERMINAL = {
    TITLES["article"]: ["ns per call", f"{X} faster than pure Python", f"{X} faster than math", INSTRUCTIONS],
    TITLES["crossing"]: ["crossing(25) ns", "factorial(25) ns", "cost of exactness ns",
                         "crossing(25) instructions"],
    TITLES["sweep"] + " (ns per call)": ["n=0", "n=20", "n=35", "n=1,000", "n=100,000", "instructions n=35"],
    TITLES["threads"]: ["t1: one call", f"two threads {X} faster than in turns", "other thread ran",
                        "idle cores"],
    TITLES["callback"]: report_control.TERMINAL,
    TITLES["object"]: report_object.TERMINAL,
}  # fmt: skip


def tables(data: dict[str, Any]) -> list[Table]:
    """Every table of the run, in the order of the scenarios, then the targets."""
    res = Results(data)
    out = [TABLES[s](res) for s in SCENARIOS if s in TABLES and res.rows(s)]
    judged = [
        g
        for g in data.get("targets", [])
        if g["met"] is not None or g.get("why", NOT_MEASURED) != NOT_MEASURED
    ]
    return out + ([targets_table(data["targets"])] if judged else [])


def terminal_tables(data: dict[str, Any]) -> list[Table]:
    """The tables as the terminal shows them: the columns of :data:`TERMINAL` where a table has many."""
    out = []
    for t in tables(data):
        keep = next((cols for title, cols in TERMINAL.items() if t.title.startswith(title)), None)
        out.append(t if keep is None else narrow(t, keep))
    return out


def summary_markdown(data: dict[str, Any]) -> str:
    """summary.md: the run, its machine, the charts and every table."""
    m = data["machine"]
    out = [
        "## factlab benchmark results",
        "",
        f"Measured {data['created']} in `{data['mode']}` mode ({data['wall_seconds']:.0f} s), "
        f"factlab commit {m.get('commit', 'unknown')}.",
        "",
        f"- Machine: {m.get('cpu_model_name')}, {m.get('cpu_count')} cores, {m.get('platform')}",
        f"- Python: {m.get('python_implementation')} {m.get('python_version')}; Rust: {m.get('rustc')}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items() if v),
        "- Harness: pyperf, one suite for the run (`pyperf.json` in the run's directory, readable with "
        "`python -m pyperf show`); settings: " + ", ".join(f"{k} {v}" for k, v in data["settings"].items()),
        "- Instructions per call: callgrind (`python -m factlab.instructions`), where the run counted them: "
        "they do not move with the machine's load.",
        "",
        "![factorial(25) per backend](chart.png)",
        "",
        "![per-call time across n](chart-detail.png)",
        "",
    ]
    return "\n".join(out + [to_markdown(t) for t in tables(data)]).rstrip() + "\n"
